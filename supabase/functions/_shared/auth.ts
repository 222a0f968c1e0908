// Who is calling: the user's access token, verified locally against the project's JWKS by
// @supabase/server (no call to the Auth server), and whether that account may use Aide.
// Every user-facing route requires it.
import { createMiddleware } from "hono/factory";
import { verifyAuth } from "@supabase/server/core";
import { type JwtClaims, sql } from "./db.ts";
import { ApiError, type AppEnv } from "./http.ts";

export interface CurrentUser {
  id: string;
  email: string | null;
  claims: JwtClaims;
}

export type AuthedEnv = { Variables: AppEnv["Variables"] & { user: CurrentUser } };

/** What private.account_access answers: "allowed", or why not. */
export type AccountAccess =
  | "allowed"
  | "no_account"
  | "banned"
  | "email_not_confirmed"
  | "domain_not_allowed";

const REFUSALS: Record<Exclude<AccountAccess, "allowed">, [401 | 403, string]> = {
  no_account: [401, "This account no longer exists"],
  banned: [403, "This account is suspended"],
  email_not_confirmed: [403, "Confirm your email address first"],
  domain_not_allowed: [403, "This service is limited to accounts from approved email domains"],
};

export const requireUser = createMiddleware<AuthedEnv>(async (c, next) => {
  const claims = await verifiedClaims(c.req.raw);
  const access = await accountAccess(claims.sub);
  if (access !== "allowed") {
    const [status, message] = REFUSALS[access];
    throw new ApiError(status, status === 401 ? "unauthorized" : access, message);
  }
  c.set("user", { id: claims.sub, email: claims.email ?? null, claims });
  await next();
});

// A client sends the same access token with every request until it expires, and checking its
// ES256 signature is the largest CPU cost of a chat send after the database (docs/BENCHMARKS.md,
// "Profile"), so each instance remembers the tokens it verified: keyed by the whole token (its
// signature included: another string is verified again), until the token expires and at most a
// minute (a signing key taken out of the JWKS stops working within that minute).
const VERIFIED_TTL_MS = 60_000;
const MAX_CACHED = 10_000; // users (or tokens) remembered per instance, here and below
const verified = new Map<string, { claims: JwtClaims; until: number }>();

async function verifiedClaims(req: Request): Promise<JwtClaims> {
  // The one place verifyAuth reads a user's token from.
  const token = req.headers.get("authorization")?.match(/^Bearer (\S+)$/)?.[1];
  const hit = token ? verified.get(token) : undefined;
  if (hit && hit.until > Date.now()) return hit.claims;
  const { data, error } = await verifyAuth(req, { auth: "user" });
  if (error || !data?.jwtClaims) {
    throw new ApiError(401, "unauthorized", error?.message ?? "A user access token is required");
  }
  const claims = data.jwtClaims as JwtClaims;
  const expiresAt = typeof claims.exp === "number" ? claims.exp * 1000 : 0;
  if (token && expiresAt > Date.now()) {
    if (verified.size >= MAX_CACHED) verified.clear();
    verified.set(token, { claims, until: Math.min(expiresAt, Date.now() + VERIFIED_TTL_MS) });
  }
  return claims;
}

// The rule is private.account_access in SQL (confirmed email, allowed domain), the same
// function the restrictive RLS policies call; the answer is cached per user for a few seconds
// so it costs no query on most requests.
const ACCESS_TTL_MS = 5_000;
const cache = new Map<string, { access: AccountAccess; at: number }>();

async function accountAccess(userId: string): Promise<AccountAccess> {
  const hit = cache.get(userId);
  if (hit && Date.now() - hit.at < ACCESS_TTL_MS) return hit.access;
  const [row] = await sql<{ access: AccountAccess }[]>`
    select private.account_access(${userId}::uuid) as access`;
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(userId, { access: row.access, at: Date.now() });
  return row.access;
}
