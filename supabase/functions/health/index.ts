// GET /functions/v1/health: is the database reachable, are the migrations applied, which LLM
// providers are configured (and whether they are the local fakes), which Aide version runs.
// It answers 200 when healthy and 503 when the database cannot be reached. No secrets.
import { sql } from "../_shared/db.ts";
import { createApp } from "../_shared/http.ts";
import type { Operation } from "../_shared/openapi.ts";
import { providerConfigured } from "../_shared/llm/endpoints.ts";
import { AIDE_VERSION } from "../_shared/version.ts";

/** The provider's default endpoint, by the rule every LLM call follows (llm/endpoints.ts). */
function providerStatus(name: "openai" | "anthropic") {
  if (!providerConfigured({ alias: name, provider: name })) return "not_configured";
  const fakes = (Deno.env.get("AIDE_FAKE_PROVIDERS") ?? "").split(",");
  return fakes.includes(name) ? "fake" : "configured";
}

async function database() {
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

const app = createApp("health");

app.get("/", async (c) => {
  const db = await database();
  return c.json({
    status: db.reachable ? "ok" : "degraded",
    version: AIDE_VERSION,
    database: db,
    providers: { openai: providerStatus("openai"), anthropic: providerStatus("anthropic") },
  }, db.reachable ? 200 : 503);
});

/** This function's operations, for the OpenAPI document (npm run openapi). */
export const operations: Operation[] = [
  {
    method: "GET",
    path: "/",
    summary: "Database, migrations, providers and version",
    auth: "jwt",
    responses: { 200: "Healthy", 503: "The database cannot be reached" },
  },
];

export { app };
Deno.serve(app.fetch);
