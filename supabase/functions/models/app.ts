// GET /models: the chat models the caller may use, whether their provider is configured, and
// their current prices (USD per million tokens).
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { json, route } from "../_shared/openapi.ts";
import {
  chatSettings,
  modelColumns,
  modelConfigured,
  type ModelRow,
} from "../_shared/chat/models.ts";

const Price = z.object({
  input: z.number(),
  output: z.number(),
  cached_read: z.number(),
  cache_write: z.number(),
  reasoning: z.number(),
  effective_from: z.string(),
}).openapi("ModelPrice");

const Models = z.object({
  default_model: z.string(),
  models: z.array(z.object({
    id: z.string(),
    name: z.string(),
    provider: z.enum(["anthropic", "openai", "openai_compatible"]),
    provider_model: z.string(),
    context_window: z.number().int(),
    max_output_tokens: z.number().int(),
    capabilities: z.record(z.string(), z.unknown()),
    fallback: z.array(z.string()),
    provider_configured: z.boolean(),
    price_per_mtok_usd: Price.nullable(),
  })),
}).openapi("Models");

export const app = createApp<AuthedEnv>("models");
app.use("*", requireUser);

const listModels = route({
  method: "get",
  path: "/",
  summary: "Chat models the caller may use, with prices",
  auth: "user",
  responses: { 200: json(Models, "The models and the default") },
});

app.openapi(listModels, async (c) => {
  const user = c.get("user");
  const { rows, settings } = await asUser(user.claims, async (tx) => ({
    settings: await chatSettings(tx),
    rows: await tx<(ModelRow & { price: z.infer<typeof Price> | null })[]>`
      select ${modelColumns(tx)}, (select jsonb_build_object(
                 'input', p.input_per_mtok, 'output', p.output_per_mtok,
                 'cached_read', p.cached_read_per_mtok, 'cache_write', p.cache_write_per_mtok,
                 'reasoning', coalesce(p.reasoning_per_mtok, p.output_per_mtok),
                 'effective_from', p.effective_from)
               from private.current_model_prices p where p.model_alias = m.alias) as price
      from public.models m where m.purpose = 'chat' order by m.alias`,
  }));
  return c.json({
    default_model: settings.defaultModel,
    models: rows.map((m) => ({
      id: m.alias,
      name: m.display_name,
      provider: m.provider,
      provider_model: m.provider_model,
      context_window: m.context_window,
      max_output_tokens: m.max_output_tokens,
      capabilities: m.capabilities,
      fallback: m.fallback,
      provider_configured: modelConfigured(m),
      price_per_mtok_usd: m.price,
    })),
  }, 200);
});
