// Secrets for calls that carry no user JWT (database webhooks, cron, meeting recorders) live in
// Supabase Vault, read by the functions over their database connection and cached briefly.
// Comparisons run in constant time over raw bytes.
import { createMiddleware } from "hono/factory";
import { sql } from "./db.ts";
import { ApiError } from "./http.ts";

const CACHE_MS = 60_000;
const cache = new Map<string, { value: string | null; until: number }>();

export async function vaultSecret(name: string): Promise<string | null> {
  const hit = cache.get(name);
  if (hit && hit.until > Date.now()) return hit.value;
  const [row] = await sql<{ value: string }[]>`
    select decrypted_secret as value from vault.decrypted_secrets where name = ${name}`;
  const value = row?.value ?? null;
  cache.set(name, { value, until: Date.now() + CACHE_MS });
  return value;
}

const encoder = new TextEncoder();

/** Equal-time comparison: both sides are hashed first, so lengths leak nothing either. */
export async function constantTimeEqual(
  a: string | Uint8Array,
  b: string | Uint8Array,
): Promise<boolean> {
  const bytes = (x: string | Uint8Array) =>
    (typeof x === "string" ? encoder.encode(x) : x) as Uint8Array<ArrayBuffer>;
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", bytes(a)),
    crypto.subtle.digest("SHA-256", bytes(b)),
  ]);
  const x = new Uint8Array(ha);
  const y = new Uint8Array(hb);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** Requires `Authorization: Bearer <the Vault secret called name>`. */
export async function requireBearerSecret(req: Request, name: string) {
  const secret = await vaultSecret(name);
  const given = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? "";
  if (!secret || !(await constantTimeEqual(given, secret))) {
    throw new ApiError(401, "unauthorized", "Missing or invalid webhook secret");
  }
}

/**
 * For routes only the database calls (pg_net webhooks, pg_cron ticks): the request must carry the
 * Vault secret `aide_webhook_secret`. A route's middleware runs before its body is read.
 */
export const requireWebhookSecret = createMiddleware(async (c, next) => {
  await requireBearerSecret(c.req.raw, "aide_webhook_secret");
  await next();
});

export async function hmacSha256Hex(
  secret: string,
  message: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}
