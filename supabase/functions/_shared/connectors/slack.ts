// Slack: OAuth v2 install, the Events API (signature v0 over the raw body, 300 s window), message
// normalization, the history backfill after install, disconnect, and sending a reply in a thread.
// Plain fetch against the Web API (INTEGRATIONS.md: @slack/web-api imports Node modules).
//
// A workspace's events belong to every Aide user who linked it: one linked account per user, and
// each delivery is stored once per account. Bot tokens do not expire; `invalid_auth`,
// `token_revoked` and `account_inactive` answers, and the `app_uninstalled` / `tokens_revoked`
// events, mark the workspace's accounts revoked.
import { sql } from "../db.ts";
import { log } from "../http.ts";
import { constantTimeEqual, hmacSha256Hex } from "../secrets.ts";
import { activeAccounts, markRevoked, recordError, upsertAccount } from "./accounts.ts";
import { connectorsUrl, requireConfig, type SlackConfig } from "./config.ts";
import { deleteEvents, storeEvents } from "./events.ts";
import { form, platformFetch } from "./platform_fetch.ts";
import { accessToken, readTokens, storeTokens } from "./tokens.ts";
import {
  type ConnectResult,
  type LinkedAccount,
  type NormalizedEvent,
  type PersonRef,
  PlatformError,
} from "./types.ts";

/** Bot scopes: read the conversations the app is in, who wrote, and reply. */
export const SLACK_SCOPES = [
  "channels:history",
  "channels:read",
  "groups:history",
  "groups:read",
  "im:history",
  "im:read",
  "mpim:history",
  "mpim:read",
  "users:read",
  "users:read.email",
  "chat:write",
].join(",");

export const SIGNATURE_WINDOW_SECONDS = 300;
export const redirectUri = () => `${connectorsUrl()}/slack/oauth/callback`;

export function slackAuthUrl(state: string): string {
  const config = requireConfig("slack");
  const url = new URL(config.authorizeUrl);
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("scope", SLACK_SCOPES);
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("state", state);
  return url.toString();
}

// deno-lint-ignore no-explicit-any
type SlackBody = { ok: boolean; error?: string; [key: string]: any };
const REVOKED_ERRORS = new Set(["invalid_auth", "token_revoked", "account_inactive", "not_authed"]);

/** A Web API call with a token (form-encoded POST); `ok: false` becomes a PlatformError. */
async function call(
  config: SlackConfig,
  method: string,
  token: string | null,
  params: Record<string, string | undefined>,
) {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (token) headers.authorization = `Bearer ${token}`;
  const { status, body } = await platformFetch<SlackBody>("slack", `${config.apiUrl}/${method}`, {
    method: "POST",
    headers,
    body: form(params),
  });
  if (!body?.ok) {
    throw new PlatformError(
      "slack",
      status,
      body?.error ?? "unknown_error",
      `Slack ${method}: ${body?.error ?? status}`,
    );
  }
  return body;
}

/** A call as a linked account; a revoked token marks the workspace's accounts revoked. */
async function accountCall(
  account: LinkedAccount,
  method: string,
  params: Record<string, string | undefined>,
) {
  const config = requireConfig("slack");
  try {
    return await call(config, method, await accessToken(account.id), params);
  } catch (e) {
    if (e instanceof PlatformError && REVOKED_ERRORS.has(e.code)) {
      const all = await activeAccounts("slack", account.provider_account_id);
      await markRevoked(all.map((a) => a.id), `Slack answered ${e.code}`);
    }
    throw e;
  }
}

// ---- install ---------------------------------------------------------------------------------

export async function connectSlack(userId: string, code: string): Promise<ConnectResult> {
  const config = requireConfig("slack");
  const basic = btoa(`${config.clientId}:${config.clientSecret}`);
  const { status, body } = await platformFetch<SlackBody>(
    "slack",
    `${config.apiUrl}/oauth.v2.access`,
    {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${basic}`,
      },
      body: form({ code, redirect_uri: redirectUri() }),
    },
  );
  if (!body?.ok) {
    throw new PlatformError(
      "slack",
      status,
      body?.error ?? "oauth_failed",
      `Slack oauth.v2.access: ${body?.error}`,
    );
  }
  const token = String(body.access_token);
  const identity = await call(config, "auth.test", token, {});
  const account = await sql.begin(async (tx) => {
    const a = await upsertAccount(tx, {
      userId,
      provider: "slack",
      providerAccountId: String(body.team.id),
      scopes: body.scope ?? null,
      metadata: {
        team_name: body.team.name,
        team_url: identity.url,
        slack_user_id: body.authed_user?.id,
        bot_user_id: body.bot_user_id,
        app_id: body.app_id,
      },
    });
    await storeTokens(tx, a, { accessToken: token, tokenType: "bot", scopes: body.scope ?? null });
    // Backfill recent history from pg_cron (backfillStep), within Slack's rate rule.
    await tx`insert into private.slack_backfills (linked_account_id, oldest)
             values (${a.id}, (extract(epoch from now() - coalesce(
               ((select value ->> 'days' from public.app_settings where key = 'connectors.slack_history') || ' days')::interval,
               interval '7 days')))::bigint::text)
             on conflict (linked_account_id) do update set status = 'running', channels = '[]', cursor = null,
               next_run_at = now(), requests = 0, messages = 0, last_error = null, oldest = excluded.oldest`;
    return a;
  });
  return {
    linked_account_id: account.id,
    provider: "slack",
    provider_account_id: account.provider_account_id,
    status: "active",
  };
}

export async function disconnectSlack(account: LinkedAccount) {
  const tokens = await readTokens(account.id).catch(() => null);
  if (!tokens) return;
  await call(requireConfig("slack"), "auth.revoke", tokens.accessToken, {}).catch((e) =>
    log("warn", "slack auth.revoke failed", { account_id: account.id, error: String(e.message) })
  );
}

// ---- the Events API --------------------------------------------------------------------------

/** Checks `v0=HMAC(signing secret, "v0:{timestamp}:{raw body}")` and the 300 s window. */
export async function verifySlackSignature(
  raw: Uint8Array<ArrayBuffer>,
  headers: Headers,
): Promise<boolean> {
  const config = requireConfig("slack");
  const timestamp = headers.get("x-slack-request-timestamp") ?? "";
  const signature = headers.get("x-slack-signature") ?? "";
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) return false;
  const prefix = new TextEncoder().encode(`v0:${timestamp}:`);
  const message = new Uint8Array(prefix.length + raw.length);
  message.set(prefix);
  message.set(raw, prefix.length);
  const expected = `v0=${await hmacSha256Hex(config.signingSecret, message)}`;
  return await constantTimeEqual(signature, expected);
}

// deno-lint-ignore no-explicit-any
type SlackEvent = Record<string, any>;

/** Handles one event_callback envelope (after the acknowledgement). */
export async function handleSlackEnvelope(envelope: SlackEvent): Promise<void> {
  const teamId = String(envelope.team_id ?? envelope.authorizations?.[0]?.team_id ?? "");
  const event: SlackEvent = envelope.event ?? {};
  const accounts = await activeAccounts("slack", teamId);
  if (!accounts.length) return;
  if (event.type === "app_uninstalled" || event.type === "tokens_revoked") {
    await markRevoked(accounts.map((a) => a.id), `Slack sent ${event.type}`);
    return;
  }
  for (const account of accounts) {
    try {
      await handleEventFor(account, event);
    } catch (e) {
      await recordError(
        account.id,
        `Slack event ${event.type}: ${e instanceof Error ? e.message : e}`,
      );
      log("warn", "slack event failed", {
        account_id: account.id,
        type: event.type,
        error: String(e),
      });
    }
  }
}

async function handleEventFor(account: LinkedAccount, event: SlackEvent) {
  const channel = String(event.channel ?? "");
  if (event.type === "message" && event.subtype === "message_deleted") {
    await deleteEvents(account, [`${channel}:${event.deleted_ts}`]);
    return;
  }
  let message = event;
  if (event.type === "message" && event.subtype === "message_changed") {
    message = { ...event.message, channel_type: event.channel_type };
  } else if (event.type !== "message" && event.type !== "app_mention") {
    return;
  } else if (
    event.subtype && !["thread_broadcast", "file_share", "me_message"].includes(event.subtype)
  ) {
    return; // joins, topic changes, bot noise
  }
  if (message.user && message.user === account.metadata.bot_user_id) return; // our own posts
  const normalized = await normalizeMessage(
    account,
    channel,
    message,
    event.type === "app_mention",
  );
  if (normalized) await storeEvents(account, [normalized]);
}

/** A Slack message as an event of `account` (users looked up once, then known as entities). */
export async function normalizeMessage(
  account: LinkedAccount,
  channel: string,
  m: SlackEvent,
  mention = false,
): Promise<NormalizedEvent | null> {
  if (!m.ts || typeof m.text !== "string") return null;
  const me = String(account.metadata.slack_user_id ?? "");
  const team = account.provider_account_id;
  const threadTs = m.thread_ts ?? m.ts;
  const mentionsUser = !!me && m.text.includes(`<@${me}>`);
  const base = String(account.metadata.team_url ?? `https://app.slack.com/client/${team}/`);
  return {
    externalId: `${channel}:${m.ts}`,
    eventType: mention || mentionsUser ? "mention" : "message",
    thread: { externalId: `${channel}:${threadTs}`, subject: m.text.slice(0, 120) || null },
    title: null,
    body: m.text,
    url: `${base.replace(/\/$/, "")}/archives/${channel}/p${String(m.ts).replace(".", "")}`,
    sender: m.user ? await slackPerson(account, String(m.user)) : { name: m.username ?? null },
    occurredAt: new Date(Number(m.ts) * 1000),
    signals: {
      directMessage: m.channel_type === "im" || channel.startsWith("D"),
      mentionsUser,
      replyInUserThread: threadTs !== m.ts && !!me && m.parent_user_id === me,
      fromUser: !!me && m.user === me,
    },
    raw: { ...m, channel },
  };
}

/** Who a Slack user is: from the entity already merged, else users.info. */
async function slackPerson(account: LinkedAccount, slackUser: string): Promise<PersonRef> {
  const platformId = `slack:${account.provider_account_id}:${slackUser}`.toLowerCase();
  const [known] = await sql<{ name: string; email: string | null; handle: string | null }[]>`
    select name, metadata ->> 'email' as email, metadata ->> 'handle' as handle from public.entities
    where user_id = ${account.user_id} and aliases ? ${platformId} limit 1`;
  if (known) return { platformId, name: known.name, email: known.email, handle: known.handle };
  try {
    const { user } = await accountCall(account, "users.info", { user: slackUser });
    return {
      platformId,
      name: user.profile?.real_name || user.real_name || user.name,
      email: user.profile?.email ?? null,
      handle: user.profile?.display_name || user.name || null,
    };
  } catch {
    return { platformId, name: null };
  }
}

// ---- backfill ----------------------------------------------------------------------------------

interface Backfill {
  linked_account_id: string;
  channels: string[];
  cursor: string | null;
  oldest: string | null;
  requests: number;
  messages: number;
}

export interface HistoryPace {
  requests_per_minute: number;
  page_size: number;
  max_messages: number;
  max_channels: number;
}

async function historyPace(): Promise<HistoryPace> {
  const [row] = await sql<{ value: Partial<HistoryPace> }[]>`
    select value from public.app_settings where key = 'connectors.slack_history'`;
  return {
    requests_per_minute: 1,
    page_size: 15,
    max_messages: 300,
    max_channels: 20,
    ...(row?.value ?? {}),
  };
}

/**
 * One step of one due backfill: the channel list first, then one conversations.history page
 * (the rate-limited call), storing its messages. The next step waits 60 / requests_per_minute
 * seconds, or the Retry-After of a 429 (the cursor is kept: it resumes where it stopped).
 * Answers false when no backfill was due.
 */
export async function backfillStep(): Promise<boolean> {
  const pace = await historyPace();
  const [job] = await sql<Backfill[]>`
    update private.slack_backfills b set next_run_at = now() + interval '5 minutes'
    where linked_account_id = (
      select linked_account_id from private.slack_backfills
      where status = 'running' and next_run_at <= now() order by next_run_at limit 1 for update skip locked)
    returning linked_account_id, channels, cursor, oldest, requests, messages`;
  if (!job) return false;
  const [account] = await sql<LinkedAccount[]>`
    select * from public.linked_accounts where id = ${job.linked_account_id} and status = 'active'`;
  if (!account) {
    await sql`update private.slack_backfills set status = 'done' where linked_account_id = ${job.linked_account_id}`;
    return true;
  }
  const spacing = 60 / Math.max(pace.requests_per_minute, 0.01);
  const save = (
    fields: Partial<Backfill> & { status?: string; wait: number; last_error?: string | null },
  ) =>
    sql`update private.slack_backfills set
          channels = ${sql.json(fields.channels ?? job.channels)}, cursor = ${
      fields.cursor === undefined ? job.cursor : fields.cursor
    },
          requests = ${fields.requests ?? job.requests}, messages = ${
      fields.messages ?? job.messages
    },
          status = ${fields.status ?? "running"}, last_error = ${fields.last_error ?? null},
          next_run_at = now() + make_interval(secs => ${fields.wait}), updated_at = now()
        where linked_account_id = ${job.linked_account_id}`;
  try {
    if (job.requests === 0 && job.channels.length === 0) {
      // conversations.list is Tier 2 (20+ a minute): not under the history rule.
      const list = await accountCall(account, "conversations.list", {
        types: "public_channel,private_channel,im,mpim",
        exclude_archived: "true",
        limit: String(pace.max_channels),
      });
      const channels = (list.channels ?? []).filter((c: SlackEvent) => c.is_member !== false)
        .map((c: SlackEvent) => String(c.id)).slice(0, pace.max_channels);
      await save({ channels, requests: 1, status: channels.length ? "running" : "done", wait: 0 });
      return true;
    }
    const channel = job.channels[0];
    if (!channel || job.messages >= pace.max_messages) {
      await save({ status: "done", wait: 0 });
      return true;
    }
    const page = await accountCall(account, "conversations.history", {
      channel,
      limit: String(pace.page_size),
      oldest: job.oldest ?? undefined,
      cursor: job.cursor ?? undefined,
    });
    const events: NormalizedEvent[] = [];
    for (const m of page.messages ?? []) {
      if (m.subtype && !["thread_broadcast", "file_share", "me_message"].includes(m.subtype)) {
        continue;
      }
      const e = await normalizeMessage(account, channel, m);
      if (e) events.push(e);
    }
    await storeEvents(account, events);
    const next = page.response_metadata?.next_cursor || null;
    const channels = next ? job.channels : job.channels.slice(1);
    const messages = job.messages + events.length;
    await save({
      channels,
      cursor: next,
      requests: job.requests + 1,
      messages,
      status: channels.length && messages < pace.max_messages ? "running" : "done",
      wait: spacing,
    });
  } catch (e) {
    if (e instanceof PlatformError && e.status === 429) {
      await save({
        requests: job.requests + 1,
        wait: e.retryAfter ?? spacing,
        last_error: "rate limited; resuming",
      });
    } else if (e instanceof PlatformError && e.code === "channel_not_found") {
      await save({ channels: job.channels.slice(1), cursor: null, wait: spacing });
    } else {
      const message = e instanceof Error ? e.message : String(e);
      const revoked = e instanceof PlatformError && REVOKED_ERRORS.has(e.code);
      await save({
        status: revoked ? "error" : "running",
        wait: Math.max(spacing, 60),
        last_error: message,
      });
      await recordError(account.id, `Slack backfill: ${message}`);
    }
  }
  return true;
}

// ---- sending -------------------------------------------------------------------------------------

/** chat.postMessage in a thread (threadTs) or the channel; answers the new message's ts. */
export async function postSlackMessage(
  account: LinkedAccount,
  target: { channel: string; threadTs?: string | null },
  text: string,
): Promise<{ externalId: string }> {
  const body = await accountCall(account, "chat.postMessage", {
    channel: target.channel,
    text,
    thread_ts: target.threadTs ?? undefined,
  });
  return { externalId: `${target.channel}:${body.ts}` };
}
