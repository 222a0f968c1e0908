// Admin management of the model registry and its prices. Every query runs as the caller, and the
// admin policies on `models` and `model_prices` (private.is_admin(), from profiles.role) decide:
// the TypeScript check only turns "not an admin" into a clear 403.
//
// Prices are append-only and effective-dated: a new price applies from its effective_from on.
// Each ledger row stores the cost computed when the call was recorded, so past usage keeps the
// price it was charged at.
import { z } from "@hono/zod-openapi";
import { asAdmin } from "../_shared/admin.ts";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { jsonb, type JwtClaims, type Tx } from "../_shared/db.ts";
import { ApiError } from "../_shared/http.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route } from "../_shared/openapi.ts";
import { modelColumns, type ModelRow } from "../_shared/chat/models.ts";

export const app = createApp<AuthedEnv>("admin");
app.use("*", requireUser);
app.use("*", limitWrites());

// --- Shapes ----------------------------------------------------------------------------------
const Alias = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "lowercase letters, digits, . _ -");
const perMtok = z.number().min(0).max(1_000_000);

const Price = z.strictObject({
  /** Default: now. */
  effective_from: z.iso.datetime({ offset: true }).optional(),
  input_per_mtok: perMtok,
  output_per_mtok: perMtok,
  cached_read_per_mtok: perMtok,
  cache_write_per_mtok: perMtok,
  /** Null or absent: reasoning tokens are billed as output tokens. */
  reasoning_per_mtok: perMtok.nullable().optional(),
});

const ModelFields = {
  provider: z.enum(["anthropic", "openai", "openai_compatible"]),
  provider_model: z.string().trim().min(1).max(200),
  // As the database's check says: https, or http on loopback only.
  base_url: z.url({ protocol: /^https?$/ }).max(500).refine(
    (u) =>
      u.startsWith("https://") ||
      /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/i.test(u),
    "must be https (or http on loopback)",
  ).nullable(),
  // Only provider keys: never a platform secret such as SUPABASE_SERVICE_ROLE_KEY.
  api_key_env: z.string().regex(/^[A-Z][A-Z0-9_]*_API_KEY$/).refine(
    (v) => !v.startsWith("SUPABASE_"),
    "must not name a SUPABASE_* variable",
  ).nullable(),
  display_name: z.string().trim().min(1).max(200),
  purpose: z.enum(["chat", "utility", "embedding"]),
  context_window: z.number().int().min(1).max(100_000_000),
  max_output_tokens: z.number().int().min(1).max(10_000_000),
  capabilities: z.record(
    z.string().max(100),
    z.union([z.boolean(), z.number(), z.string().max(200)]),
  ).refine((o) => Object.keys(o).length <= 50, "at most 50 capabilities"),
  /** Aliases tried in order when this model fails before its first token. */
  fallback: z.array(Alias).max(10),
  enabled: z.boolean(),
};

const CreateModel = z.strictObject({
  alias: Alias,
  ...ModelFields,
  base_url: ModelFields.base_url.default(null),
  api_key_env: ModelFields.api_key_env.default(null),
  purpose: ModelFields.purpose.default("chat"),
  capabilities: ModelFields.capabilities.default({}),
  fallback: ModelFields.fallback.default([]),
  enabled: ModelFields.enabled.default(true),
  /** The first price, optional: a model without a price is metered at zero cost. */
  price: Price.optional(),
});

const UpdateModel = z.strictObject(ModelFields).partial()
  .refine((b) => Object.keys(b).length > 0, "Send at least one field to change");

/** A model_prices row (numeric columns arrive as strings). */
interface PriceRow {
  id: number;
  effective_from: Date | string;
  input_per_mtok: string;
  output_per_mtok: string;
  cached_read_per_mtok: string;
  cache_write_per_mtok: string;
  reasoning_per_mtok: string | null;
}

type AdminModelRow = ModelRow & {
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  current_price: PriceRow | null;
};

const PriceJson = z.object({
  id: z.number().int(),
  effective_from: z.string(),
  input_per_mtok: z.number(),
  output_per_mtok: z.number(),
  cached_read_per_mtok: z.number(),
  cache_write_per_mtok: z.number(),
  reasoning_per_mtok: z.number().nullable(),
}).openapi("ModelPriceRow");

const AdminModel = z.object({
  alias: z.string(),
  provider: ModelFields.provider,
  provider_model: z.string(),
  base_url: z.string().nullable(),
  api_key_env: z.string().nullable(),
  display_name: z.string(),
  purpose: ModelFields.purpose,
  context_window: z.number().int(),
  max_output_tokens: z.number().int(),
  capabilities: z.record(z.string(), z.unknown()),
  fallback: z.array(z.string()),
  enabled: z.boolean(),
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
  current_price: PriceJson.nullable(),
}).openapi("AdminModel");

const AliasParams = z.strictObject({ alias: Alias });

const priceJson = (p: PriceRow) => ({
  id: p.id,
  effective_from: p.effective_from,
  input_per_mtok: Number(p.input_per_mtok),
  output_per_mtok: Number(p.output_per_mtok),
  cached_read_per_mtok: Number(p.cached_read_per_mtok),
  cache_write_per_mtok: Number(p.cache_write_per_mtok),
  reasoning_per_mtok: p.reasoning_per_mtok === null ? null : Number(p.reasoning_per_mtok),
});

function modelJson(m: AdminModelRow) {
  return {
    alias: m.alias,
    provider: m.provider,
    provider_model: m.provider_model,
    base_url: m.base_url,
    api_key_env: m.api_key_env,
    display_name: m.display_name,
    purpose: m.purpose,
    context_window: m.context_window,
    max_output_tokens: m.max_output_tokens,
    capabilities: m.capabilities,
    fallback: m.fallback,
    enabled: m.enabled,
    created_at: m.created_at,
    updated_at: m.updated_at,
    current_price: m.current_price ? priceJson(m.current_price) : null,
  };
}

// --- Queries ---------------------------------------------------------------------------------
/** Models with their current price; one model when `alias` is given. */
const selectModels = (tx: Tx, alias?: string) =>
  tx<AdminModelRow[]>`
    select ${modelColumns(tx)}, (select to_jsonb(p) from private.current_model_prices p
                                 where p.model_alias = m.alias) as current_price
    from public.models m ${alias === undefined ? tx`` : tx`where m.alias = ${alias}`}
    order by m.alias`;

async function findModel(tx: Tx, alias: string) {
  const [row] = await selectModels(tx, alias);
  if (!row) throw new ApiError(404, "not_found", `No model "${alias}"`);
  return row;
}

async function checkFallback(tx: Tx, alias: string, fallback: string[] | undefined) {
  if (!fallback?.length) return;
  if (fallback.includes(alias)) {
    throw new ApiError(422, "invalid_fallback", "A model cannot fall back to itself");
  }
  const found = await tx<{ alias: string }[]>`
    select alias from public.models where alias = any(${fallback})`;
  const missing = fallback.filter((a) => !found.some((f) => f.alias === a));
  if (missing.length) {
    throw new ApiError(422, "unknown_model", `Unknown fallback model(s): ${missing.join(", ")}`);
  }
}

async function insertPrice(tx: Tx, alias: string, p: z.output<typeof Price>) {
  try {
    const [row] = await tx<PriceRow[]>`
      insert into public.model_prices (model_alias, effective_from, input_per_mtok, output_per_mtok,
                                       cached_read_per_mtok, cache_write_per_mtok, reasoning_per_mtok)
      values (${alias}, ${
      p.effective_from ?? new Date()
    }, ${p.input_per_mtok}, ${p.output_per_mtok},
              ${p.cached_read_per_mtok}, ${p.cache_write_per_mtok}, ${p.reasoning_per_mtok ?? null})
      returning *`;
    return row;
  } catch (e) {
    throw conflict(e, "A price with this effective_from already exists for this model");
  }
}

/** A unique violation becomes a 409; anything else is rethrown. */
function conflict(e: unknown, message: string) {
  return (e as { code?: string }).code === "23505" ? new ApiError(409, "conflict", message) : e;
}

// --- Routes ----------------------------------------------------------------------------------
const claims = (c: { get(key: "user"): { claims: JwtClaims } }) => c.get("user").claims;
const BODY_ERRORS = {
  403: "Not an admin",
};

app.openapi(
  route({
    method: "get",
    path: "/models",
    summary: "Every model with its current price (admins)",
    auth: "user",
    responses: {
      200: json(z.object({ models: z.array(AdminModel) }).openapi("AdminModels"), "The registry"),
    },
    errors: { 403: "Not an admin" },
  }),
  async (c) => {
    const rows = await asAdmin(claims(c), (tx) => selectModels(tx));
    return c.json({ models: rows.map(modelJson) }, 200);
  },
);

app.openapi(
  route({
    method: "post",
    path: "/models",
    summary: "Add a model with its first price (admins)",
    auth: "user",
    request: { body: jsonBody(CreateModel) },
    responses: { 201: json(AdminModel, "The model") },
    errors: { ...BODY_ERRORS, 409: "Alias taken", 422: "Unknown fallback" },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const row = await asAdmin(claims(c), async (tx) => {
      await checkFallback(tx, body.alias, body.fallback);
      try {
        await tx`
        insert into public.models (alias, provider, provider_model, base_url, api_key_env,
          display_name, purpose, context_window, max_output_tokens, capabilities, fallback, enabled)
        values (${body.alias}, ${body.provider}, ${body.provider_model}, ${body.base_url},
          ${body.api_key_env}, ${body.display_name}, ${body.purpose}, ${body.context_window},
          ${body.max_output_tokens}, ${
          tx.json(body.capabilities)
        }, ${body.fallback}, ${body.enabled})`;
      } catch (e) {
        throw conflict(e, `A model "${body.alias}" already exists`);
      }
      if (body.price) await insertPrice(tx, body.alias, body.price);
      return await findModel(tx, body.alias);
    });
    return c.json(modelJson(row), 201);
  },
);

/** Update any field but the alias; `{"enabled": false}` disables a model. */
app.openapi(
  route({
    method: "patch",
    path: "/models/{alias}",
    summary: "Change or disable a model (admins)",
    auth: "user",
    request: { params: AliasParams, body: jsonBody(UpdateModel) },
    responses: { 200: json(AdminModel, "The model") },
    errors: { ...BODY_ERRORS, 404: "Not found", 422: "Unknown fallback" },
  }),
  async (c) => {
    const { alias } = c.req.valid("param");
    const body = c.req.valid("json");
    const row = await asAdmin(claims(c), async (tx) => {
      const current = await findModel(tx, alias);
      await checkFallback(tx, alias, body.fallback);
      const m = { ...current, ...body };
      await tx`
      update public.models set provider = ${m.provider}, provider_model = ${m.provider_model},
        base_url = ${m.base_url}, api_key_env = ${m.api_key_env}, display_name = ${m.display_name},
        purpose = ${m.purpose}, context_window = ${m.context_window},
        max_output_tokens = ${m.max_output_tokens}, capabilities = ${jsonb(m.capabilities)},
        fallback = ${m.fallback}, enabled = ${m.enabled}, updated_at = now()
      where alias = ${alias}`;
      return await findModel(tx, alias);
    });
    return c.json(modelJson(row), 200);
  },
);

app.openapi(
  route({
    method: "get",
    path: "/models/{alias}/prices",
    summary: "A model's price history (admins)",
    auth: "user",
    request: { params: AliasParams },
    responses: {
      200: json(
        z.object({ model: z.string(), prices: z.array(PriceJson) }).openapi("ModelPriceHistory"),
        "The prices",
      ),
    },
    errors: { 400: "Bad alias", 403: "Not an admin", 404: "Not found" },
  }),
  async (c) => {
    const { alias } = c.req.valid("param");
    const rows = await asAdmin(claims(c), async (tx) => {
      await findModel(tx, alias);
      return await tx<PriceRow[]>`select * from public.model_prices where model_alias = ${alias}
                                order by effective_from desc`;
    });
    return c.json({ model: alias, prices: rows.map(priceJson) }, 200);
  },
);

app.openapi(
  route({
    method: "post",
    path: "/models/{alias}/prices",
    summary: "Add a price from an effective date (admins)",
    auth: "user",
    request: { params: AliasParams, body: jsonBody(Price) },
    responses: { 201: json(PriceJson, "The price") },
    errors: { ...BODY_ERRORS, 404: "Not found", 409: "A price from that date exists" },
  }),
  async (c) => {
    const { alias } = c.req.valid("param");
    const body = c.req.valid("json");
    const row = await asAdmin(claims(c), async (tx) => {
      await findModel(tx, alias);
      return await insertPrice(tx, alias, body);
    });
    return c.json(priceJson(row), 201);
  },
);
