// Who is calling: the user's access token, verified locally against the project's JWKS by
// @supabase/server (no call to the Auth server). Every user-facing route requires it.
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

export const requireUser = createMiddleware<AuthedEnv>(async (c, next) => {
  const { data, error } = await verifyAuth(c.req.raw, { auth: "user" });
  if (error || !data?.jwtClaims) {
    throw new ApiError(401, "unauthorized", error?.message ?? "A user access token is required");
  }
  const claims = data.jwtClaims as JwtClaims;
  if (!emailDomainAllowed(claims.email, await allowedDomains())) {
    throw new ApiError(
      403,
      "domain_not_allowed",
      "This service is limited to accounts from approved email domains",
    );
  }
  c.set("user", { id: claims.sub, email: claims.email ?? null, claims });
  await next();
});

// The email-domain allowlist (app_settings `auth.allowed_email_domains`, empty: everyone),
// cached per instance for a few seconds so the check costs no query per request. The same rule
// runs at sign-up in SQL: public.hook_before_user_created.
const DOMAINS_TTL_MS = 5_000;
let domains: { list: string[]; at: number } | null = null;
let loadingDomains: Promise<string[]> | null = null;

function allowedDomains(): Promise<string[]> | string[] {
  if (domains && Date.now() - domains.at < DOMAINS_TTL_MS) return domains.list;
  loadingDomains ??= sql<{ value: unknown }[]>`
    select value from public.app_settings where key = 'auth.allowed_email_domains'`
    .then(([row]) => {
      const list = Array.isArray(row?.value) ? row.value.map((d) => String(d).toLowerCase()) : [];
      domains = { list, at: Date.now() };
      return list;
    })
    .finally(() => (loadingDomains = null));
  return loadingDomains;
}

export function emailDomainAllowed(email: string | undefined, allowed: string[]): boolean {
  if (allowed.length === 0) return true;
  const domain = email?.toLowerCase().match(/@([^@]+)$/)?.[1];
  return domain !== undefined && allowed.includes(domain);
}
