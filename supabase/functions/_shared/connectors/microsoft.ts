// Outlook mail through Microsoft Graph: OAuth authorization code with PKCE (S256) and the client
// secret at the v2.0 token endpoint; refresh tokens rotate on every use (tokens.ts serializes
// refreshes per account, so the new one is never lost). A change-notification subscription on the
// inbox's messages, with a per-subscription clientState (only its hash is stored) and a lifecycle
// URL; notifications are acknowledged at once (202) and the message fetched in the background.
// Lifecycle events: reauthorizationRequired renews, subscriptionRemoved recreates and resyncs,
// missed resyncs through the messages delta query (deltaLink kept; 410 starts a bounded full
// resync). pg_cron renews subscriptions before they expire (jobs.ts).
import { sql } from "../db.ts";
import { log } from "../http.ts";
import { constantTimeEqual } from "../secrets.ts";
import { randomUrlToken, recordError, upsertAccount } from "./accounts.ts";
import { connectorsUrl, requireConfig } from "./config.ts";
import { deleteEvents, storeEvents } from "./events.ts";
import { form, platformFetch } from "./platform_fetch.ts";
import { accessToken, storeTokens, type TokenSet } from "./tokens.ts";
import {
  type ConnectResult,
  type LinkedAccount,
  type NormalizedEvent,
  PlatformError,
} from "./types.ts";

export const MICROSOFT_SCOPES = "offline_access User.Read Mail.Read Mail.Send";
const INBOX_MESSAGES = "me/mailFolders('inbox')/messages";
export const redirectUri = () => `${connectorsUrl()}/outlook/oauth/callback`;

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const sha256 = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));

export const pkceChallenge = async (verifier: string) => b64url(await sha256(verifier));

/** A PKCE verifier (43 characters of base64url, RFC 7636's minimum entropy). */
export const newVerifier = () => randomUrlToken(32);

export async function outlookAuthUrl(state: string, verifier: string): Promise<string> {
  const config = requireConfig("outlook");
  const url = new URL(`${config.loginUrl}/${config.tenant}/oauth2/v2.0/authorize`);
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("response_mode", "query");
  url.searchParams.set("scope", MICROSOFT_SCOPES);
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", await pkceChallenge(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
}

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

async function tokenRequest(params: Record<string, string>): Promise<TokenSet> {
  const config = requireConfig("outlook");
  const { status, body } = await platformFetch<Json>(
    "outlook",
    `${config.loginUrl}/${config.tenant}/oauth2/v2.0/token`,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form({
        client_id: config.clientId,
        client_secret: config.clientSecret,
        scope: MICROSOFT_SCOPES,
        ...params,
      }),
    },
  );
  if (status !== 200 || !body?.access_token) {
    // error_description can quote the request; only the error code is kept.
    throw new PlatformError(
      "outlook",
      status,
      String(body?.error ?? "token_error"),
      `Microsoft token endpoint: ${body?.error ?? status}`,
    );
  }
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token ?? null,
    expiresAt: new Date(Date.now() + Number(body.expires_in ?? 3600) * 1000),
    scopes: body.scope ?? null,
  };
}

export const refreshMicrosoft = (refreshToken: string) =>
  tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken });

/** A Graph call as the account; a 401 refreshes the token once and tries again. */
export async function graph(
  account: LinkedAccount,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Json }> {
  const config = requireConfig("outlook");
  const url = path.startsWith("http") ? path : `${config.graphUrl}${path}`;
  let force = false;
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = await accessToken(account.id, refreshMicrosoft, { force });
    const res = await platformFetch<Json>("outlook", url, {
      ...init,
      headers: {
        "content-type": "application/json",
        ...init.headers,
        authorization: `Bearer ${token}`,
      },
    });
    if (res.status !== 401) return res;
    force = true;
  }
  throw new PlatformError("outlook", 401, "unauthorized", "Graph refused the refreshed token");
}

const graphOk = (res: { status: number; body: Json }, what: string) => {
  if (res.status >= 300) {
    throw new PlatformError(
      "outlook",
      res.status,
      String(res.body?.error?.code ?? res.status),
      `Graph ${what}: ${res.body?.error?.code ?? res.status}`,
    );
  }
  return res.body;
};

// ---- connect -------------------------------------------------------------------------------------

export async function connectOutlook(
  userId: string,
  code: string,
  verifier: string,
): Promise<{ result: ConnectResult; account: LinkedAccount }> {
  const tokens = await tokenRequest({
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri(),
    code_verifier: verifier,
  });
  const config = requireConfig("outlook");
  const me = await platformFetch<Json>("outlook", `${config.graphUrl}/me`, {
    headers: { authorization: `Bearer ${tokens.accessToken}` },
  });
  const profile = graphOk(me, "GET /me");
  const account = await sql.begin(async (tx) => {
    const a = await upsertAccount(tx, {
      userId,
      provider: "outlook",
      providerAccountId: String(profile.id),
      scopes: tokens.scopes ?? MICROSOFT_SCOPES,
      metadata: {
        mail: profile.mail ?? profile.userPrincipalName,
        display_name: profile.displayName,
      },
    });
    await storeTokens(tx, a, tokens);
    return a;
  });
  await createSubscription(account);
  return {
    result: {
      linked_account_id: account.id,
      provider: "outlook",
      provider_account_id: account.provider_account_id,
      status: "active",
    },
    account,
  };
}

// ---- subscriptions --------------------------------------------------------------------------------

async function lifetimeMinutes(): Promise<number> {
  const [row] = await sql<
    { value: number }[]
  >`select value from public.app_settings where key = 'connectors.graph_subscription_minutes'`;
  return Number(row?.value ?? 4230);
}

/** Creates the inbox subscription (Graph validates both URLs first) with a fresh clientState. */
export async function createSubscription(account: LinkedAccount) {
  const clientState = randomUrlToken(48);
  const expires = new Date(Date.now() + (await lifetimeMinutes()) * 60_000);
  const body = graphOk(
    await graph(account, "/subscriptions", {
      method: "POST",
      body: JSON.stringify({
        changeType: "created,updated",
        notificationUrl: `${connectorsUrl()}/outlook/notifications`,
        lifecycleNotificationUrl: `${connectorsUrl()}/outlook/lifecycle`,
        resource: INBOX_MESSAGES,
        expirationDateTime: expires.toISOString(),
        clientState,
      }),
    }),
    "POST /subscriptions",
  );
  await sql`
    insert into private.graph_subscriptions (linked_account_id, subscription_id, client_state_hash, expires_at)
    values (${account.id}, ${body.id}, ${
    b64url(await sha256(clientState))
  }, ${body.expirationDateTime})
    on conflict (linked_account_id) do update set subscription_id = excluded.subscription_id,
      client_state_hash = excluded.client_state_hash, expires_at = excluded.expires_at, updated_at = now()`;
}

export async function renewSubscription(account: LinkedAccount) {
  const [sub] = await sql<{ subscription_id: string | null }[]>`
    select subscription_id from private.graph_subscriptions where linked_account_id = ${account.id}`;
  if (!sub?.subscription_id) return await createSubscription(account);
  const expires = new Date(Date.now() + (await lifetimeMinutes()) * 60_000);
  const res = await graph(account, `/subscriptions/${sub.subscription_id}`, {
    method: "PATCH",
    body: JSON.stringify({ expirationDateTime: expires.toISOString() }),
  });
  if (res.status === 404) return await createSubscription(account);
  const body = graphOk(res, "PATCH /subscriptions");
  await sql`update private.graph_subscriptions set expires_at = ${body.expirationDateTime}, updated_at = now()
            where linked_account_id = ${account.id}`;
}

export async function disconnectOutlook(account: LinkedAccount) {
  const [sub] = await sql<{ subscription_id: string | null }[]>`
    select subscription_id from private.graph_subscriptions where linked_account_id = ${account.id}`;
  if (!sub?.subscription_id) return;
  await graph(account, `/subscriptions/${sub.subscription_id}`, { method: "DELETE" }).catch((e) =>
    log("warn", "graph subscription delete failed", {
      account_id: account.id,
      error: String(e.message),
    })
  );
}

// ---- notifications ---------------------------------------------------------------------------------

interface Notification {
  subscriptionId: string;
  clientState?: string | null;
  changeType?: string;
  lifecycleEvent?: string;
  resourceData?: { id?: string };
}

/** The notifications whose clientState matches their subscription's, with the account. */
export async function authenticNotifications(values: Notification[]) {
  const out: { n: Notification; account: LinkedAccount }[] = [];
  for (const n of values.slice(0, 1000)) {
    const [row] = await sql<(LinkedAccount & { client_state_hash: string })[]>`
      select a.*, s.client_state_hash from private.graph_subscriptions s
      join public.linked_accounts a on a.id = s.linked_account_id
      where s.subscription_id = ${String(n.subscriptionId ?? "")} and a.status = 'active'`;
    if (!row || typeof n.clientState !== "string") continue;
    if (!(await constantTimeEqual(b64url(await sha256(n.clientState)), row.client_state_hash))) {
      continue;
    }
    const { client_state_hash: _h, ...account } = row;
    out.push({ n, account: account as LinkedAccount });
  }
  return out;
}

export async function handleChange(account: LinkedAccount, n: Notification) {
  const id = n.resourceData?.id;
  if (!id) return;
  if (n.changeType === "deleted") {
    await deleteEvents(account, [id]);
    return;
  }
  const res = await graph(account, `/me/messages/${encodeURIComponent(id)}`);
  if (res.status === 404) return; // gone again before we looked
  await storeEvents(account, [normalizeMessage(account, graphOk(res, "GET /me/messages"))]);
}

export async function handleLifecycle(account: LinkedAccount, event: string) {
  if (event === "reauthorizationRequired") await renewSubscription(account);
  else if (event === "subscriptionRemoved") {
    await createSubscription(account);
    await resync(account);
  } else if (event === "missed") await resync(account);
}

/** Runs `work` for an account, recording a failure on it instead of throwing (background work). */
export async function recording(
  account: LinkedAccount,
  what: string,
  work: () => Promise<unknown>,
) {
  try {
    await work();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await recordError(account.id, `Outlook ${what}: ${message}`);
    log("warn", "outlook background work failed", { account_id: account.id, what, error: message });
  }
}

// ---- delta resync -----------------------------------------------------------------------------------

/**
 * Follows the stored deltaLink (or starts a full round) through every nextLink, storing messages
 * and deleting removed ones, and keeps the new deltaLink. A 410 (the sync state is gone) starts a
 * full round, bounded by connectors.graph_resync_max_messages.
 */
export async function resync(
  account: LinkedAccount,
): Promise<{ stored: number; removed: number; full: boolean }> {
  const [state] = await sql<{ delta_link: string | null }[]>`
    select delta_link from private.graph_subscriptions where linked_account_id = ${account.id}`;
  const [limit] = await sql<{ value: number }[]>`
    select value from public.app_settings where key = 'connectors.graph_resync_max_messages'`;
  const max = Number(limit?.value ?? 500);
  const full = `/me/mailFolders/inbox/messages/delta`;
  let url = state?.delta_link ?? full;
  let fullRound = !state?.delta_link;
  let stored = 0;
  let removed = 0;
  for (let page = 0; page < 100; page++) {
    const res = await graph(account, url, { headers: { prefer: "odata.maxpagesize=50" } });
    if (res.status === 410 && !fullRound) {
      url = full;
      fullRound = true;
      continue;
    }
    const body = graphOk(res, "GET messages/delta");
    const gone = (body.value ?? []).filter((m: Json) => m["@removed"]).map((m: Json) =>
      String(m.id)
    );
    const live = (body.value ?? []).filter((m: Json) => !m["@removed"]);
    removed += await deleteEvents(account, gone);
    await storeEvents(account, live.map((m: Json) => normalizeMessage(account, m)));
    stored += live.length;
    if (body["@odata.deltaLink"]) {
      await saveDeltaLink(account, body["@odata.deltaLink"]);
      break;
    }
    if (!body["@odata.nextLink"] || stored >= max) break;
    url = body["@odata.nextLink"];
  }
  return { stored, removed, full: fullRound };
}

const saveDeltaLink = (account: LinkedAccount, link: string) =>
  sql`insert into private.graph_subscriptions (linked_account_id, delta_link) values (${account.id}, ${link})
      on conflict (linked_account_id) do update set delta_link = excluded.delta_link, updated_at = now()`;

// ---- normalization -----------------------------------------------------------------------------------

const stripHtml = (html: string) =>
  html.replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>/gi, " ").replace(
    /<br\s*\/?>|<\/p>/gi,
    "\n",
  )
    .replace(/<[^>]+>/g, " ").replace(/&nbsp;/g, " ").replace(/&amp;/g, "&").replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/[ \t]+/g, " ").replace(/\n\s+/g, "\n")
    .trim();

type Address = { emailAddress?: { name?: string; address?: string } };
const personOf = (a: Address | undefined) =>
  a?.emailAddress?.address
    ? { platformId: undefined, name: a.emailAddress.name ?? null, email: a.emailAddress.address }
    : null;

export function normalizeMessage(account: LinkedAccount, m: Json): NormalizedEvent {
  const mine = String(account.metadata.mail ?? "").toLowerCase();
  const addresses = (list: Address[] | undefined) =>
    (list ?? []).map((a) => a.emailAddress?.address?.toLowerCase()).filter(Boolean);
  const to = addresses(m.toRecipients);
  const cc = addresses(m.ccRecipients);
  const body = m.body?.content
    ? (m.body.contentType === "html" ? stripHtml(m.body.content) : String(m.body.content))
    : (m.bodyPreview ?? "");
  const from = personOf(m.from);
  return {
    externalId: String(m.id),
    eventType: "email",
    thread: m.conversationId
      ? { externalId: String(m.conversationId), subject: m.subject ?? null }
      : null,
    title: m.subject ?? null,
    body,
    url: m.webLink ?? null,
    sender: from,
    participants: [...(m.toRecipients ?? []), ...(m.ccRecipients ?? [])].map(personOf).filter((p) =>
      p !== null
    ),
    occurredAt: new Date(m.receivedDateTime ?? Date.now()),
    signals: {
      addressedTo: !!mine && to.includes(mine),
      ccOnly: !!mine && !to.includes(mine) && cc.includes(mine),
      fromUser: !!mine && from?.email?.toLowerCase() === mine,
    },
    raw: { ...m, body: undefined },
  };
}

// ---- sending -----------------------------------------------------------------------------------------

/** Replies to a message (Graph's reply keeps the thread and recipients). */
export async function replyOutlook(
  account: LinkedAccount,
  messageId: string,
  comment: string,
): Promise<{ externalId: string | null }> {
  graphOk(
    await graph(account, `/me/messages/${encodeURIComponent(messageId)}/reply`, {
      method: "POST",
      body: JSON.stringify({ comment }),
    }),
    "POST /me/messages/{id}/reply",
  );
  return { externalId: null };
}
