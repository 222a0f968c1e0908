// GET /functions/v1/health: is the database reachable, are the migrations applied, which LLM
// providers are configured (and whether they are the local fakes), which Aide version runs.
// It answers 200 when healthy and 503 when the database cannot be reached. No secrets.
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { sql } from "../_shared/db.ts";
import { json, route } from "../_shared/openapi.ts";
import { AIDE_VERSION } from "../_shared/version.ts";
import { providerConfigured } from "../_shared/llm/endpoints.ts";

const ProviderStatus = z.enum(["not_configured", "fake", "configured"]);

const Health = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  database: z.union([
    z.object({
      reachable: z.literal(true),
      latency_ms: z.number().int(),
      migration_version: z.string().nullable(),
      migrations_applied: z.number().int(),
    }),
    z.object({ reachable: z.literal(false), error: z.string() }),
  ]),
  providers: z.object({ openai: ProviderStatus, anthropic: ProviderStatus }),
}).openapi("Health");

/** The provider's default endpoint, by the rule every LLM call follows (llm/endpoints.ts). */
function providerStatus(name: "openai" | "anthropic"): z.infer<typeof ProviderStatus> {
  if (!providerConfigured({ alias: name, provider: name })) return "not_configured";
  const fakes = (Deno.env.get("AIDE_FAKE_PROVIDERS") ?? "").split(",");
  return fakes.includes(name) ? "fake" : "configured";
}

async function database(): Promise<z.infer<typeof Health>["database"]> {
  const started = performance.now();
  try {
    const [row] = await sql<{ version: string | null; count: number }[]>`
      select max(version) as version, count(*)::int as count
      from supabase_migrations.schema_migrations`;
    return {
      reachable: true,
      latency_ms: Math.round(performance.now() - started),
      migration_version: row.version,
      migrations_applied: row.count,
    };
  } catch (e) {
    return { reachable: false, error: (e as { code?: string }).code ?? "connection_failed" };
  }
}

export const app = createApp("health");

const getHealth = route({
  method: "get",
  path: "/",
  summary: "Database, migrations, providers and version",
  auth: "jwt",
  responses: {
    200: json(Health, "Healthy"),
    503: json(Health, "The database cannot be reached"),
  },
});

app.openapi(getHealth, async (c) => {
  const db = await database();
  const body = {
    status: db.reachable ? "ok" as const : "degraded" as const,
    version: AIDE_VERSION,
    database: db,
    providers: { openai: providerStatus("openai"), anthropic: providerStatus("anthropic") },
  };
  return db.reachable ? c.json(body, 200) : c.json(body, 503);
});
