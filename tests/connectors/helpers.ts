// What the connector tests share: the fakes' control routes (local/fakes/slack.ts, microsoft.ts,
// telegram.ts), connecting accounts through the real OAuth flows, and calling the scheduled tick.
import { call, connect, env, FUNCTIONS_URL, until } from "../_support/stack.ts";

export const CONNECTORS = `${FUNCTIONS_URL}/connectors`;
const origin = (url: string) => new URL(url).origin;
export const FAKE = {
  slack: origin(env.SLACK_API_URL),
  microsoft: origin(env.MS_GRAPH_URL),
  telegram: origin(env.TELEGRAM_API_URL),
};

/** Calls a fake's /__fake/* control route. */
export async function fake(
  platform: keyof typeof FAKE,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(`${FAKE[platform]}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) {
    throw new Error(`${platform} ${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  }
  return data;
}

export const uid = (prefix: string) =>
  `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`;

/**
 * OAuth callbacks answer according to the global setting connectors.return_url: every flow holds
 * this advisory lock shared, and the test that sets the setting holds it exclusively meanwhile.
 */
const OAUTH_LOCK = 7_301_301;
export async function withOAuthLock<T>(
  mode: "shared" | "exclusive",
  fn: () => Promise<T>,
): Promise<T> {
  const sql = connect();
  try {
    if (mode === "shared") await sql`select pg_advisory_lock_shared(${OAUTH_LOCK})`;
    else await sql`select pg_advisory_lock(${OAUTH_LOCK})`;
    return await fn();
  } finally {
    await sql.end(); // ends the session, which releases the lock
  }
}

/** Follows an authorize URL through the fake (which redirects straight back) to Aide's callback. */
export function completeAuthorize(
  authUrl: string,
  extra: Record<string, string> = {},
  lock: "shared" | "held" = "shared",
) {
  const flow = async () => {
    const url = new URL(authUrl);
    for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
    const res = await fetch(url, { redirect: "manual" });
    await res.body?.cancel();
    const location = res.headers.get("location");
    if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}`);
    return { callback: location, result: await call(location, { redirect: "manual" }) };
  };
  return lock === "held" ? flow() : withOAuthLock("shared", flow);
}

/** Installs Aide into the fake workspace `team` as `token`'s user; answers the callback's JSON. */
export async function installSlack(token: string, team: string) {
  const init = await call(`${CONNECTORS}/slack/oauth/initiate`, { token });
  if (init.status !== 200) throw new Error(`initiate: ${init.status} ${init.text}`);
  const { result } = await completeAuthorize(init.body.auth_url, { team });
  if (result.status !== 200) throw new Error(`callback: ${result.status} ${result.text}`);
  return result.body as {
    linked_account_id: string;
    provider: string;
    provider_account_id: string;
    status: string;
  };
}

/** Creates a fake Slack workspace. */
export function slackTeam(team: {
  id: string;
  users?: { id: string; name: string; real_name?: string; email?: string }[];
  channels?: {
    id: string;
    name?: string;
    is_im?: boolean;
    messages?: { ts: string; user: string; text: string; thread_ts?: string }[];
  }[];
  rate?: { requests_per_minute?: number; window_seconds?: number; max_limit?: number };
}) {
  return fake("slack", "POST", "/__fake/teams", team);
}

/** Has the fake Slack post an Events API delivery to Aide (signed, with Slack's retries). */
export function deliverSlack(body: Record<string, unknown>) {
  return fake("slack", "POST", "/__fake/deliver", {
    url: `${CONNECTORS}/slack/events`,
    retry_delays_ms: [0, 0, 0],
    ...body,
  });
}

let webhookSecret: string | undefined;
export async function tick(body: Record<string, unknown> = {}) {
  if (!webhookSecret) {
    const sql = connect();
    const [row] =
      await sql`select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret'`;
    await sql.end();
    webhookSecret = row.decrypted_secret;
  }
  return await call(`${CONNECTORS}/jobs/tick`, {
    method: "POST",
    headers: { authorization: `Bearer ${webhookSecret}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Waits for an events row of `userId` with `externalId` (background work after the ack). */
export function eventuallyEvent(
  sql: ReturnType<typeof connect>,
  userId: string,
  externalId: string,
  timeoutMs = 10_000,
) {
  return until(`event ${externalId}`, async () => {
    const [row] =
      await sql`select * from public.events where user_id = ${userId} and external_id = ${externalId}`;
    return row;
  }, timeoutMs);
}

/** Loads the connectors' own code in this process, with the stack's environment (e.g. tokens.ts). */
export async function withStackEnv<T>(load: () => Promise<T>): Promise<T> {
  for (const [k, v] of Object.entries(env)) if (!Deno.env.get(k)) Deno.env.set(k, v);
  return await load();
}
