// Tokens at rest. Every OAuth token is stored AES-256-GCM encrypted (Web Crypto) in the format
//
//   v1.<key id>.<iv>.<ciphertext>          (iv and ciphertext base64url; ciphertext ends in the tag)
//
// with additional data binding it to its row: `aide:<table>:<row id>:<user id>:<column>`, so a
// ciphertext copied into another row, user or column fails to decrypt. Keys come from the
// environment: AIDE_TOKEN_KEYS, a JSON map of key id to a base64 32-byte key, and
// AIDE_TOKEN_KEY_ID, the key new writes use. To rotate: add a key, point AIDE_TOKEN_KEY_ID at it,
// and let the rotation job (rotateTokenKeys, run by pg_cron through the connectors function)
// re-encrypt rows under the older ids in bounded batches; remove the old key once no row uses it.
//
// Refreshes are serialized per account: the token row is locked (select ... for update) while the
// platform is asked, so of two concurrent refreshes the second waits and then uses the first's
// result. Microsoft replaces the refresh token on every use; this is how the new one is never lost.
//
// Nothing here logs or returns a token outside the caller's memory.
import { sql, type Tx } from "../db.ts";

const FORMAT = "v1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class TokenKeyError extends Error {}

interface KeyRing {
  current: string;
  keys: Map<string, CryptoKey>;
}

let ring: Promise<KeyRing> | null = null;
let ringSource = "";

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromB64 = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

/** The key ring from the environment (re-read when the environment changes, e.g. in tests). */
function keyRing(): Promise<KeyRing> {
  const source = `${Deno.env.get("AIDE_TOKEN_KEYS") ?? ""}|${
    Deno.env.get("AIDE_TOKEN_KEY_ID") ?? ""
  }`;
  if (ring && source === ringSource) return ring;
  ringSource = source;
  ring = (async () => {
    let map: Record<string, string>;
    try {
      map = JSON.parse(Deno.env.get("AIDE_TOKEN_KEYS") ?? "");
    } catch {
      throw new TokenKeyError("AIDE_TOKEN_KEYS must be a JSON object of key id to base64 key");
    }
    const current = Deno.env.get("AIDE_TOKEN_KEY_ID") ?? "";
    const keys = new Map<string, CryptoKey>();
    for (const [id, value] of Object.entries(map)) {
      if (!/^[A-Za-z0-9_-]{1,40}$/.test(id)) {
        throw new TokenKeyError(`token key id "${id}" is not [A-Za-z0-9_-]`);
      }
      const raw = fromB64(String(value));
      if (raw.length !== 32) throw new TokenKeyError(`token key "${id}" is not 32 bytes`);
      keys.set(
        id,
        await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]),
      );
    }
    if (!keys.has(current)) {
      throw new TokenKeyError("AIDE_TOKEN_KEY_ID does not name a key of AIDE_TOKEN_KEYS");
    }
    return { current, keys };
  })();
  ring.catch(() => (ring = null));
  return ring;
}

/** Where a ciphertext lives: what its additional data binds it to. */
export interface TokenSlot {
  table: string;
  rowId: string;
  userId: string;
  column: string;
}

const aad = (slot: TokenSlot) =>
  encoder.encode(`aide:${slot.table}:${slot.rowId}:${slot.userId}:${slot.column}`);

export async function encryptToken(plaintext: string, slot: TokenSlot): Promise<string> {
  const { current, keys } = await keyRing();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aad(slot) },
    keys.get(current)!,
    encoder.encode(plaintext),
  );
  return [FORMAT, current, b64url(iv), b64url(new Uint8Array(sealed))].join(".");
}

export async function decryptToken(stored: string, slot: TokenSlot): Promise<string> {
  const [format, keyId, iv, sealed, ...rest] = stored.split(".");
  if (format !== FORMAT || !keyId || !iv || !sealed || rest.length) {
    throw new TokenKeyError("not a v1 token ciphertext");
  }
  const key = (await keyRing()).keys.get(keyId);
  if (!key) throw new TokenKeyError(`token key "${keyId}" is not in AIDE_TOKEN_KEYS`);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromB64(iv), additionalData: aad(slot) },
      key,
      fromB64(sealed),
    );
    return decoder.decode(plain);
  } catch {
    // Wrong row, user or column (or tampered): the same answer, on purpose.
    throw new TokenKeyError("the token does not decrypt for this row");
  }
}

export const keyIdOf = (stored: string) => stored.split(".")[1];

/** First 12 hex digits of SHA-256: tells tokens apart without revealing them. */
export async function fingerprint(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  return Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- the oauth_tokens table --------------------------------------------------------------------

export interface TokenSet {
  accessToken: string;
  refreshToken?: string | null;
  /** When the access token expires; null: it does not. */
  expiresAt?: Date | null;
  scopes?: string | null;
  tokenType?: "bearer" | "bot";
}

interface TokenRow {
  id: string;
  user_id: string;
  access_token_enc: string;
  refresh_token_enc: string | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

const slot = (row: { id: string; user_id: string }, column: string): TokenSlot => ({
  table: "oauth_tokens",
  rowId: row.id,
  userId: row.user_id,
  column,
});

async function sealRow(id: string, userId: string, tokens: TokenSet) {
  const row = { id, user_id: userId };
  return {
    access_token_enc: await encryptToken(tokens.accessToken, slot(row, "access_token_enc")),
    refresh_token_enc: tokens.refreshToken
      ? await encryptToken(tokens.refreshToken, slot(row, "refresh_token_enc"))
      : null,
    key_id: (await keyRing()).current,
    token_fingerprint: await fingerprint(tokens.accessToken),
  };
}

/** Stores (or replaces) an account's tokens, encrypted for their row. */
export async function storeTokens(
  db: Tx | typeof sql,
  account: { id: string; user_id: string },
  tokens: TokenSet,
): Promise<void> {
  const type = tokens.tokenType ?? "bearer";
  const [existing] = await db<{ id: string }[]>`
    select id from public.oauth_tokens where linked_account_id = ${account.id} and token_type = ${type}`;
  const id = existing?.id ?? crypto.randomUUID();
  const sealed = await sealRow(id, account.user_id, tokens);
  await db`
    insert into public.oauth_tokens (id, user_id, linked_account_id, token_type, scopes, access_token_enc,
      refresh_token_enc, key_id, expires_at, token_fingerprint, last_refreshed_at, revoked_at)
    values (${id}, ${account.user_id}, ${account.id}, ${type}, ${tokens.scopes ?? null},
      ${sealed.access_token_enc}, ${sealed.refresh_token_enc}, ${sealed.key_id}, ${
    tokens.expiresAt ?? null
  },
      ${sealed.token_fingerprint}, null, null)
    on conflict (linked_account_id, token_type) do update set
      scopes = excluded.scopes, access_token_enc = excluded.access_token_enc,
      refresh_token_enc = excluded.refresh_token_enc, key_id = excluded.key_id,
      expires_at = excluded.expires_at, token_fingerprint = excluded.token_fingerprint, revoked_at = null`;
}

export class NoTokenError extends Error {}

async function openRow(row: TokenRow) {
  return {
    accessToken: await decryptToken(row.access_token_enc, slot(row, "access_token_enc")),
    refreshToken: row.refresh_token_enc
      ? await decryptToken(row.refresh_token_enc, slot(row, "refresh_token_enc"))
      : null,
    expiresAt: row.expires_at,
  };
}

/** How long before expiry an access token is refreshed. */
const REFRESH_MARGIN_MS = 120_000;

/**
 * The account's access token, refreshed first when it expires within two minutes (or when
 * `force`, e.g. after the platform answered 401). `refresh` exchanges a refresh token at the
 * platform; it runs with the token row locked, so refreshes of one account never overlap.
 */
export async function accessToken(
  accountId: string,
  refresh?: (refreshToken: string) => Promise<TokenSet>,
  opts: { force?: boolean } = {},
): Promise<string> {
  const [row] = await sql<TokenRow[]>`
    select id, user_id, access_token_enc, refresh_token_enc, expires_at, revoked_at
    from public.oauth_tokens where linked_account_id = ${accountId} and revoked_at is null
    order by token_type limit 1`;
  if (!row) throw new NoTokenError("the account has no token");
  const fresh = (r: TokenRow) =>
    !r.expires_at || r.expires_at.getTime() - Date.now() > REFRESH_MARGIN_MS;
  if ((fresh(row) && !opts.force) || !refresh || !row.refresh_token_enc) {
    return (await openRow(row)).accessToken;
  }
  const seen = row.access_token_enc;
  return await sql.begin(async (tx) => {
    const [locked] = await tx<TokenRow[]>`
      select id, user_id, access_token_enc, refresh_token_enc, expires_at, revoked_at
      from public.oauth_tokens where id = ${row.id} for update`;
    if (!locked || locked.revoked_at) throw new NoTokenError("the account's token was revoked");
    // Someone refreshed while we waited for the lock: theirs is the current token.
    if (locked.access_token_enc !== seen && fresh(locked)) {
      return (await openRow(locked)).accessToken;
    }
    const current = await openRow(locked);
    const next = await refresh(current.refreshToken!);
    const sealed = await sealRow(locked.id, locked.user_id, {
      ...next,
      // Platforms that do not rotate refresh tokens answer without one: keep the old one.
      refreshToken: next.refreshToken ?? current.refreshToken,
    });
    await tx`
      update public.oauth_tokens set access_token_enc = ${sealed.access_token_enc},
        refresh_token_enc = ${sealed.refresh_token_enc}, key_id = ${sealed.key_id},
        token_fingerprint = ${sealed.token_fingerprint}, expires_at = ${next.expiresAt ?? null},
        scopes = coalesce(${next.scopes ?? null}, scopes), last_refreshed_at = now()
      where id = ${locked.id}`;
    return next.accessToken;
  }) as string;
}

/** Both tokens of an account in clear, for revoking them at the platform on disconnect. */
export async function readTokens(
  accountId: string,
): Promise<{ accessToken: string; refreshToken: string | null } | null> {
  const [row] = await sql<TokenRow[]>`
    select id, user_id, access_token_enc, refresh_token_enc, expires_at, revoked_at
    from public.oauth_tokens where linked_account_id = ${accountId} and revoked_at is null
    order by token_type limit 1`;
  return row ? await openRow(row) : null;
}

// ---- rotation -----------------------------------------------------------------------------------

export interface RotationResult {
  rotated: number;
  remaining: number;
  failed: number;
}

/**
 * Re-encrypts rows whose key id is not the current one, `batchSize` rows per transaction
 * (rows being refreshed are skipped and picked up next time), until none are left or
 * `maxBatches` ran. A row that does not decrypt is counted as failed and left as it is.
 */
export async function rotateTokenKeys(
  opts: { batchSize?: number; maxBatches?: number } = {},
): Promise<RotationResult> {
  const { current } = await keyRing();
  const batchSize = opts.batchSize ?? 100;
  let rotated = 0;
  let failed = 0;
  const failedIds: string[] = [];
  for (let batch = 0; batch < (opts.maxBatches ?? 50); batch++) {
    const n = await sql.begin(async (tx) => {
      const rows = await tx<TokenRow[]>`
        select id, user_id, access_token_enc, refresh_token_enc, expires_at, revoked_at
        from public.oauth_tokens where key_id <> ${current} and not (id = any (${failedIds}::uuid[]))
        order by id limit ${batchSize} for update skip locked`;
      for (const row of rows) {
        try {
          const sealed = await sealRow(row.id, row.user_id, await openRow(row));
          await tx`update public.oauth_tokens set access_token_enc = ${sealed.access_token_enc},
                     refresh_token_enc = ${sealed.refresh_token_enc}, key_id = ${sealed.key_id}
                   where id = ${row.id}`;
          rotated++;
        } catch {
          failed++;
          failedIds.push(row.id);
        }
      }
      return rows.length;
    });
    if (n < batchSize) break;
  }
  const [left] = await sql<{ n: number }[]>`
    select count(*)::int as n from public.oauth_tokens where key_id <> ${current}`;
  return { rotated, remaining: left.n, failed };
}
