// Who is calling: the user's access token, verified locally against the project's JWKS by
// @supabase/server (no call to the Auth server). Every user-facing route requires it.
import { createMiddleware } from "hono/factory";
import { verifyAuth } from "@supabase/server/core";
import type { JwtClaims } from "./db.ts";
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
  c.set("user", { id: claims.sub, email: claims.email ?? null, claims });
  await next();
});
