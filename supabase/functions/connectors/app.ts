// The connectors function: linking Slack, Outlook and Telegram accounts, and the platforms'
// webhooks. User routes take the user's JWT; OAuth callbacks prove themselves by their single-use
// state, webhooks by their signature (Slack), clientState (Graph) or secret token (Telegram), and
// the scheduled tick by the Vault webhook secret: the platform's JWT check is off for this
// function (supabase/config.toml). Logic lives in _shared/connectors/; see README "Inbox connectors".
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { sql } from "../_shared/db.ts";
import { ApiError, log } from "../_shared/http.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, route, uuidParams } from "../_shared/openapi.ts";
import { runInBackground } from "../_shared/runtime.ts";
import { requireWebhookSecret } from "../_shared/secrets.ts";
import {
  consumeState,
  createState,
  deleteAccount,
  listAccounts,
  ownAccount,
} from "../_shared/connectors/accounts.ts";
import { requireConfig } from "../_shared/connectors/config.ts";
import { JOBS, runJobs } from "../_shared/connectors/jobs.ts";
import {
  authenticNotifications,
  connectOutlook,
  disconnectOutlook,
  handleChange,
  handleLifecycle,
  newVerifier,
  outlookAuthUrl,
  recording,
  resync,
} from "../_shared/connectors/microsoft.ts";
import {
  connectSlack,
  disconnectSlack,
  handleSlackEnvelope,
  slackAuthUrl,
  verifySlackSignature,
} from "../_shared/connectors/slack.ts";
import { firstDelivery } from "../_shared/connectors/accounts.ts";
import {
  configureTelegramWebhook,
  createLinkCode,
  handleTelegramUpdate,
  verifyTelegramSecret,
} from "../_shared/connectors/telegram.ts";
import { type ConnectResult, PlatformError, type Provider } from "../_shared/connectors/types.ts";
import { parseJson, rawBody } from "../_shared/connectors/webhook.ts";

export const app = createApp<AuthedEnv>("connectors");
type C = Context<AuthedEnv>;

const userOnly = [requireUser, limitWrites()];

// ---- schemas ---------------------------------------------------------------------------------

const Account = z.object({
  id: z.uuid(),
  provider: z.enum(["slack", "outlook", "telegram"]),
  provider_account_id: z.string(),
  status: z.enum(["active", "revoked", "error"]),
  scopes: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  last_event_at: z.string().nullable(),
  last_error: z.string().nullable(),
  last_error_at: z.string().nullable(),
  created_at: z.string(),
}).openapi("LinkedAccount");

const Initiate = z.object({ auth_url: z.url(), state: z.string() }).openapi("OAuthInitiate");
const Connected = z.object({
  linked_account_id: z.uuid(),
  provider: z.enum(["slack", "outlook", "telegram"]),
  provider_account_id: z.string(),
  status: z.literal("active"),
}).openapi("ConnectResult");
const Callback = z.strictObject({
  code: z.string().min(1).max(2000).optional(),
  state: z.string().min(1).max(200).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
  // Slack and Microsoft add these; ignored.
  session_state: z.string().max(500).optional(),
  admin_consent: z.string().max(20).optional(),
});
const Ack = z.object({ ok: z.literal(true) }).openapi("WebhookAck");

const iso = (d: Date | null) => d?.toISOString() ?? null;
const accountJson = (a: Awaited<ReturnType<typeof listAccounts>>[number]) => ({
  id: a.id,
  provider: a.provider,
  provider_account_id: a.provider_account_id,
  status: a.status,
  scopes: a.scopes,
  metadata: a.metadata,
  last_event_at: iso(a.last_event_at),
  last_error: a.last_error,
  last_error_at: iso(a.last_error_at),
  created_at: a.created_at.toISOString(),
});

// ---- linked accounts ----------------------------------------------------------------------------

const list = route({
  method: "get",
  path: "/",
  summary: "The caller's linked accounts with status, scopes, last event and last error",
  auth: "user",
  middleware: [requireUser],
  responses: { 200: json(z.object({ accounts: z.array(Account) }), "Linked accounts") },
});
app.openapi(list, async (c) => {
  const accounts = await listAccounts(c.get("user").claims);
  return c.json({ accounts: accounts.map(accountJson) }, 200);
});

const disconnect = route({
  method: "delete",
  path: "/{id}",
  summary: "Disconnect an account (revoked at the platform); ?purge=true also deletes its events",
  auth: "user",
  middleware: userOnly,
  request: {
    params: uuidParams("id"),
    query: z.strictObject({ purge: z.enum(["true", "false"]).default("false") }),
  },
  responses: { 204: { description: "Disconnected" } },
  errors: { 400: "Invalid id or query", 404: "No such account" },
});
app.openapi(disconnect, async (c) => {
  const { id } = c.req.valid("param");
  const { purge } = c.req.valid("query");
  const account = await ownAccount(c.get("user").claims, id);
  if (!account) throw new ApiError(404, "not_found", "No such linked account");
  // Revocation at the platform is best effort: the account goes either way.
  if (account.status === "active") {
    if (account.provider === "slack") await disconnectSlack(account);
    if (account.provider === "outlook") await disconnectOutlook(account);
  }
  await deleteAccount(account.id, purge === "true");
  return c.body(null, 204);
});

// ---- OAuth (Slack and Outlook) -------------------------------------------------------------------

const slackInitiate = route({
  method: "get",
  path: "/slack/oauth/initiate",
  summary: "Start a Slack install: the authorize URL and its single-use state (10 minutes)",
  auth: "user",
  middleware: [requireUser],
  responses: { 200: json(Initiate, "Open auth_url in the browser") },
  errors: { 503: "Slack is not configured" },
});
app.openapi(slackInitiate, async (c) => {
  requireConfig("slack");
  const state = await createState(c.get("user").id, "slack_oauth");
  return c.json({ auth_url: slackAuthUrl(state), state }, 200);
});

const outlookInitiate = route({
  method: "get",
  path: "/outlook/oauth/initiate",
  summary: "Start an Outlook connection: the authorize URL (PKCE S256) and its single-use state",
  auth: "user",
  middleware: [requireUser],
  responses: { 200: json(Initiate, "Open auth_url in the browser") },
  errors: { 503: "Outlook is not configured" },
});
app.openapi(outlookInitiate, async (c) => {
  requireConfig("outlook");
  const verifier = newVerifier();
  const state = await createState(c.get("user").id, "outlook_oauth", verifier);
  return c.json({ auth_url: await outlookAuthUrl(state, verifier), state }, 200);
});

/** The callback's answer: JSON, or a 302 to app_settings connectors.return_url when set. */
async function callbackAnswer(c: C, result: ConnectResult | { error: string; provider: Provider }) {
  const [row] = await sql<{ url: string | null }[]>`
    select value #>> '{}' as url from public.app_settings where key = 'connectors.return_url'`;
  if (row?.url) {
    const target = new URL(row.url);
    for (const [k, v] of Object.entries(result)) target.searchParams.set(k, String(v));
    return c.redirect(target.toString(), 302);
  }
  if ("error" in result) {
    throw new ApiError(
      400,
      result.error,
      "The authorization did not complete: start again from initiate",
    );
  }
  return c.json(result, 200);
}

function callbackRoute(provider: "slack" | "outlook") {
  return route({
    method: "get",
    path: `/${provider}/oauth/callback`,
    summary: `The ${provider} OAuth redirect: exchanges the code (proof: the single-use state)`,
    auth: "signature",
    request: { query: Callback },
    responses: {
      200: json(Connected, "Connected"),
      302: {
        description:
          "Redirect to connectors.return_url with the result (or error) as query parameters",
      },
    },
    errors: {
      400: "Missing, used or expired state, or the platform refused the code",
      502: "The platform failed",
      503: "Not configured",
    },
  });
}

async function completeOAuth(c: C, provider: "slack" | "outlook", q: z.infer<typeof Callback>) {
  requireConfig(provider);
  const state = q.state
    ? await consumeState(q.state, provider === "slack" ? "slack_oauth" : "outlook_oauth")
    : null;
  if (!state) return await callbackAnswer(c, { error: "invalid_state", provider });
  if (q.error || !q.code) return await callbackAnswer(c, { error: "access_denied", provider });
  try {
    if (provider === "slack") {
      return await callbackAnswer(c, await connectSlack(state.user_id, q.code));
    }
    const { result, account } = await connectOutlook(state.user_id, q.code, state.code_verifier!);
    // The first sync reads recent mail after the answer (Graph's delta query, bounded).
    runInBackground(recording(account, "initial sync", () => resync(account)));
    return await callbackAnswer(c, result);
  } catch (e) {
    if (!(e instanceof PlatformError)) throw e;
    log("warn", "oauth exchange failed", { provider, code: e.code, status: e.status });
    if (e.status >= 400 && e.status < 500 || e.status === 200) {
      return await callbackAnswer(c, { error: "exchange_failed", provider });
    }
    throw new ApiError(502, "platform_error", `${provider} did not answer the code exchange`);
  }
}

app.openapi(callbackRoute("slack"), (c) => completeOAuth(c, "slack", c.req.valid("query")));
app.openapi(callbackRoute("outlook"), (c) => completeOAuth(c, "outlook", c.req.valid("query")));

// ---- Slack Events API ------------------------------------------------------------------------------

const slackEvents = route({
  method: "post",
  path: "/slack/events",
  summary:
    "Slack Events API deliveries (signed: X-Slack-Signature v0 over the raw body, 300 s window)",
  auth: "signature",
  responses: {
    200: json(
      z.object({ challenge: z.string() }).or(Ack),
      "Acknowledged (work continues in the background), or the url_verification challenge",
    ),
  },
  errors: {
    400: "Not JSON",
    401: "Bad signature or stale timestamp",
    413: "Too large",
    503: "Slack is not configured",
  },
});
app.openapi(slackEvents, async (c) => {
  requireConfig("slack");
  const raw = await rawBody(c);
  if (!(await verifySlackSignature(raw, c.req.raw.headers))) {
    throw new ApiError(401, "invalid_signature", "Bad Slack signature or timestamp");
  }
  const body = parseJson(raw);
  if (body.type === "url_verification") {
    return c.json({ challenge: String(body.challenge ?? "") }, 200);
  }
  if (body.type === "event_callback" && typeof body.event_id === "string") {
    // A retry (X-Slack-Retry-Num) of a delivery already taken is acknowledged and dropped.
    if (await firstDelivery("slack", body.event_id)) runInBackground(handleSlackEnvelope(body));
  }
  return c.json({ ok: true as const }, 200);
});

// ---- Microsoft Graph notifications -------------------------------------------------------------------

const ValidationQuery = z.strictObject({ validationToken: z.string().min(1).max(1000).optional() });

function graphRoute(kind: "notifications" | "lifecycle") {
  return route({
    method: "post",
    path: `/outlook/${kind}`,
    summary: kind === "notifications"
      ? "Graph change notifications (validationToken handshake; clientState checked)"
      : "Graph lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed)",
    auth: "signature",
    request: { query: ValidationQuery },
    responses: {
      200: {
        description: "The validation token, as text/plain",
        content: { "text/plain": { schema: z.string() } },
      },
      202: {
        description:
          "Accepted; handled in the background (unknown or mismatched clientState: ignored)",
      },
    },
    errors: { 400: "Not JSON, or not a notification collection", 413: "Too large" },
  });
}

async function graphWebhook(c: C, kind: "notifications" | "lifecycle", validationToken?: string) {
  if (validationToken !== undefined) {
    return c.text(validationToken, 200, { "content-type": "text/plain; charset=utf-8" });
  }
  const body = parseJson(await rawBody(c));
  if (!Array.isArray(body.value)) {
    throw new ApiError(400, "invalid_request", "Not a Graph notification collection");
  }
  // Unknown subscriptions and mismatched clientStates are dropped, but still acknowledged (202).
  const authentic = await authenticNotifications(body.value);
  runInBackground((async () => {
    for (const { n, account } of authentic) {
      if (kind === "lifecycle" || n.lifecycleEvent) {
        await recording(
          account,
          `lifecycle ${n.lifecycleEvent}`,
          () => handleLifecycle(account, String(n.lifecycleEvent)),
        );
      } else {
        await recording(account, "notification", () => handleChange(account, n));
      }
    }
  })());
  return c.body(null, 202);
}
app.openapi(
  graphRoute("notifications"),
  (c) => graphWebhook(c, "notifications", c.req.valid("query").validationToken),
);
app.openapi(
  graphRoute("lifecycle"),
  (c) => graphWebhook(c, "lifecycle", c.req.valid("query").validationToken),
);

// ---- Telegram ------------------------------------------------------------------------------------------

const telegramLink = route({
  method: "post",
  path: "/telegram/link",
  summary:
    "A single-use link code: open url (the bot with /start <code>) to link your Telegram account",
  auth: "user",
  middleware: userOnly,
  responses: {
    200: json(
      z.object({ code: z.string(), url: z.url() }).openapi("TelegramLink"),
      "The code and the bot link",
    ),
  },
  errors: { 502: "Telegram did not answer", 503: "Telegram is not configured" },
});
app.openapi(telegramLink, async (c) => {
  requireConfig("telegram");
  return c.json(await createLinkCode(c.get("user").id), 200);
});

const telegramSetup = route({
  method: "post",
  path: "/telegram/setup",
  summary: "Admins: point the bot's webhook here (setWebhook with the secret and allowed_updates)",
  auth: "user",
  middleware: userOnly,
  responses: {
    200: json(
      z.object({ url: z.string(), allowed_updates: z.array(z.string()) }),
      "The webhook as Telegram reports it",
    ),
  },
  errors: { 403: "Admins only", 502: "Telegram refused", 503: "Telegram is not configured" },
});
app.openapi(telegramSetup, async (c) => {
  const [me] = await sql<{ role: string }[]>`select role from public.profiles where id = ${
    c.get("user").id
  }`;
  if (me?.role !== "admin") {
    throw new ApiError(403, "forbidden", "Only admins configure the Telegram webhook");
  }
  try {
    return c.json(await configureTelegramWebhook(), 200);
  } catch (e) {
    if (e instanceof PlatformError) throw new ApiError(502, "platform_error", e.message);
    throw e;
  }
});

const telegramWebhook = route({
  method: "post",
  path: "/telegram/webhook",
  summary: "Telegram Bot API updates (X-Telegram-Bot-Api-Secret-Token)",
  auth: "signature",
  responses: { 200: json(Ack, "Handled (a redelivered update_id is a no-op)") },
  errors: {
    400: "Not JSON",
    401: "Missing or wrong secret token",
    413: "Too large",
    503: "Telegram is not configured",
  },
});
app.openapi(telegramWebhook, async (c) => {
  requireConfig("telegram");
  if (!(await verifyTelegramSecret(c.req.raw.headers))) {
    throw new ApiError(401, "invalid_secret", "Missing or wrong X-Telegram-Bot-Api-Secret-Token");
  }
  const update = parseJson(await rawBody(c));
  if (typeof update.update_id !== "number") {
    throw new ApiError(400, "invalid_request", "Not a Telegram update");
  }
  // Telegram waits for the answer and redelivers on errors: the work is quick, done inline.
  await handleTelegramUpdate(update);
  return c.json({ ok: true as const }, 200);
});

// ---- scheduled work -----------------------------------------------------------------------------------

const tick = route({
  middleware: [requireWebhookSecret],
  method: "post",
  path: "/jobs/tick",
  summary:
    "The connectors' scheduled work (pg_cron, Vault webhook secret): backfills, Graph renewals, key rotation",
  auth: "secret",
  request: {
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z.strictObject({
            jobs: z.array(z.enum(JOBS)).min(1).max(3).optional(),
            budget_ms: z.number().int().min(100).max(55_000).optional(),
          }),
        },
      },
    },
  },
  responses: { 200: json(z.record(z.string(), z.unknown()), "What each job did") },
  errors: { 400: "Invalid body", 401: "Bad secret" },
});
app.openapi(tick, async (c) => {
  const body = c.req.valid("json") ?? {};
  return c.json(await runJobs(body.jobs ?? JOBS, body.budget_ms ?? 45_000), 200);
});
