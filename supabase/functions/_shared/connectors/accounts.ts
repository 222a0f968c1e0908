// Queries on linked accounts and the single-use flow states (OAuth state, Telegram link codes).
import { asUser, jsonb, type JwtClaims, sql, type Tx } from "../db.ts";
import type { LinkedAccount, Provider } from "./types.ts";

const ACCOUNT_COLUMNS = sql`id, user_id, provider, provider_account_id, scopes, status, metadata,
  last_event_at, last_error, last_error_at, created_at`;

/** Creates or reactivates the caller's account for a platform identity. */
export async function upsertAccount(
  db: Tx | typeof sql,
  a: {
    userId: string;
    provider: Provider;
    providerAccountId: string;
    scopes?: string | null;
    metadata?: Record<string, unknown>;
  },
): Promise<LinkedAccount> {
  const [row] = await db<LinkedAccount[]>`
    insert into public.linked_accounts (user_id, provider, provider_account_id, scopes, metadata, status)
    values (${a.userId}, ${a.provider}, ${a.providerAccountId}, ${a.scopes ?? null}, ${
    jsonb(a.metadata ?? {})
  }, 'active')
    on conflict (user_id, provider, provider_account_id) do update set
      scopes = excluded.scopes, metadata = public.linked_accounts.metadata || excluded.metadata,
      status = 'active', last_error = null, last_error_at = null
    returning ${ACCOUNT_COLUMNS}`;
  return row;
}

/** Every active account of a platform identity (a Slack workspace linked by several users). */
export function activeAccounts(
  provider: Provider,
  providerAccountId: string,
): Promise<LinkedAccount[]> {
  return sql<LinkedAccount[]>`
    select ${ACCOUNT_COLUMNS} from public.linked_accounts
    where provider = ${provider} and provider_account_id = ${providerAccountId} and status = 'active'
    order by created_at`;
}

export async function accountById(id: string): Promise<LinkedAccount | null> {
  const [row] = await sql<
    LinkedAccount[]
  >`select ${ACCOUNT_COLUMNS} from public.linked_accounts where id = ${id}`;
  return row ?? null;
}

/** The caller's accounts, read under RLS. */
export function listAccounts(user: JwtClaims): Promise<LinkedAccount[]> {
  return asUser(
    user,
    (tx) =>
      tx<
        LinkedAccount[]
      >`select ${ACCOUNT_COLUMNS} from public.linked_accounts order by created_at, id`,
  );
}

export function ownAccount(user: JwtClaims, id: string): Promise<LinkedAccount | null> {
  return asUser(user, async (tx) => {
    const [row] = await tx<
      LinkedAccount[]
    >`select ${ACCOUNT_COLUMNS} from public.linked_accounts where id = ${id}`;
    return row ?? null;
  });
}

/** Revoked accounts keep their row (and events) but get no more deliveries; tokens are marked revoked. */
export async function markRevoked(accountIds: string[], reason: string) {
  if (!accountIds.length) return;
  await sql.begin(async (tx) => {
    await tx`update public.linked_accounts set status = 'revoked', last_error = ${reason}, last_error_at = now()
             where id = any (${accountIds}::uuid[])`;
    await tx`update public.oauth_tokens set revoked_at = now() where linked_account_id = any (${accountIds}::uuid[])`;
  });
}

export async function recordError(accountId: string, message: string, status?: "error") {
  await sql`update public.linked_accounts set last_error = left(${message}, 2000), last_error_at = now(),
              status = coalesce(${status ?? null}, status)
            where id = ${accountId}`;
}

export async function deleteAccount(accountId: string, purge: boolean) {
  await sql.begin(async (tx) => {
    if (purge) {
      // Index rows go with each event (trigger); threads the account's events were in go too.
      const threads = await tx<{ thread_id: string }[]>`
        delete from public.events where source_account_id = ${accountId} returning thread_id`;
      const ids = [...new Set(threads.map((t) => t.thread_id).filter(Boolean))];
      await tx`delete from public.threads t where t.id = any (${ids}::uuid[])
               and not exists (select 1 from public.events e where e.thread_id = t.id)`;
    }
    await tx`delete from public.linked_accounts where id = ${accountId}`;
  });
}

// ---- flow states ----------------------------------------------------------------------------------

export type StatePurpose = "slack_oauth" | "outlook_oauth" | "telegram_link";

async function sha256Hex(text: string) {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function randomUrlToken(bytes = 24): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** A new single-use state for `userId`, valid for connectors.state_ttl; only its hash is stored. */
export async function createState(
  userId: string,
  purpose: StatePurpose,
  codeVerifier?: string,
  token = randomUrlToken(),
) {
  await sql`
    insert into private.connector_states (state_hash, user_id, purpose, code_verifier, expires_at)
    values (${await sha256Hex(token)}, ${userId}, ${purpose}, ${codeVerifier ?? null},
            now() + coalesce(private.interval_setting('connectors.state_ttl'), interval '10 minutes'))`;
  return token;
}

/** Consumes a state: its user and verifier once, null when unknown, used or expired. */
export async function consumeState(token: string, purpose: StatePurpose) {
  const [row] = await sql<{ user_id: string; code_verifier: string | null }[]>`
    delete from private.connector_states
    where state_hash = ${await sha256Hex(token)} and purpose = ${purpose}
    returning user_id, code_verifier, expires_at > now() as live`;
  return row && (row as unknown as { live: boolean }).live ? row : null;
}

// ---- webhook deliveries -----------------------------------------------------------------------------

/** Records a delivery id; false when it was seen before (a retry). */
export async function firstDelivery(provider: string, deliveryId: string): Promise<boolean> {
  const rows = await sql`
    insert into private.webhook_deliveries (provider, delivery_id) values (${provider}, ${deliveryId})
    on conflict do nothing returning 1`;
  return rows.length === 1;
}
