// Sessions as GoTrue keeps them: a sign-in makes a session with a refresh token; refreshing
// rotates the token (the old one is revoked, the new one's parent is the old one). A revoked
// token used again past refresh_token_reuse_interval is taken as theft: the whole session's
// token family is revoked and the request fails with refresh_token_already_used. Within the
// interval, the client that lost the newest token gets that token again.
//
// Access tokens are ES256 JWTs signed with the stack's key, with GoTrue's claims; when the
// custom_access_token hook is configured it may rewrite them before they are signed.
import type postgres from "postgres";
import { type SigningKeys, signJwt } from "../jwt.ts";
import type { AuthConfig } from "./config.ts";
import { AuthError } from "./errors.ts";
import { customizeAccessToken } from "./hooks.ts";
import * as store from "./store.ts";
import { type Sql, type UserRow } from "./store.ts";
import { userJson } from "./users.ts";

export interface AuthContext {
  sql: postgres.Sql;
  cfg: AuthConfig;
  keys: SigningKeys;
  issuer: string;
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** GoTrue's refresh token: 12 random alphanumerics (v1 format). */
function newRefreshToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join("");
}

async function accessToken(
  ctx: AuthContext,
  sql: Sql,
  user: UserRow,
  sessionId: string,
  method: string,
) {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + ctx.cfg.jwtExpiry;
  const amr = await store.sessionAmr(sql, sessionId);
  let claims: Record<string, unknown> = {
    iss: ctx.issuer,
    sub: user.id,
    aud: user.aud,
    exp,
    iat,
    email: user.email ?? "",
    phone: user.phone ?? "",
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    role: user.role,
    aal: "aal1",
    amr: amr.map((a) => ({ method: a.method, timestamp: a.timestamp })),
    session_id: sessionId,
    is_anonymous: user.is_anonymous,
  };
  if (ctx.cfg.hooks.customAccessToken) {
    claims = await customizeAccessToken(sql, ctx.cfg.hooks.customAccessToken, {
      user_id: user.id,
      claims,
      authentication_method: method,
    });
  }
  return { token: await signJwt(claims, ctx.keys), exp: claims.exp as number };
}

async function tokenResponse(
  ctx: AuthContext,
  sql: Sql,
  userId: string,
  sessionId: string,
  refreshToken: string,
  method: string,
) {
  const user = await store.findUserById(sql, userId);
  const { token, exp } = await accessToken(ctx, sql, user, sessionId, method);
  return {
    access_token: token,
    token_type: "bearer",
    expires_in: ctx.cfg.jwtExpiry,
    expires_at: exp,
    refresh_token: refreshToken,
    user: userJson(user, await store.identitiesOf(sql, userId)),
  };
}

/** A new session for a user who just proved who they are (`method`: password, otp, ...). */
export function signIn(
  ctx: AuthContext,
  userId: string,
  method: string,
  client: { userAgent: string | null; ip: string | null },
) {
  return ctx.sql.begin(async (sql) => {
    const sessionId = crypto.randomUUID();
    await store.insertSession(sql, { id: sessionId, userId, method, ...client });
    const refreshToken = newRefreshToken();
    await store.insertRefreshToken(sql, { token: refreshToken, userId, sessionId, parent: null });
    await store.touchSignIn(sql, userId);
    return await tokenResponse(ctx, sql, userId, sessionId, refreshToken, method);
  });
}

const notFound = () =>
  new AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");

/** grant_type=refresh_token. */
export async function refresh(ctx: AuthContext, token: string) {
  // A reuse revokes the family even though the request fails, so that part commits on its own.
  let reused = false;
  const result = await ctx.sql.begin(async (sql) => {
    const row = await store.lockRefreshToken(sql, token);
    if (!row || !row.session_id) throw notFound();
    const user = await store.findUserById(sql, row.user_id);
    if (!user) throw notFound();
    if (user.banned_until && user.banned_until > new Date()) {
      throw new AuthError(400, "user_banned", "Invalid Refresh Token: User Banned");
    }
    let issued: string | null = null;
    if (row.revoked) {
      const active = await store.activeRefreshToken(sql, row.session_id);
      const withinInterval = Date.now() <
        row.updated_at.getTime() + ctx.cfg.refreshTokenReuseInterval * 1000;
      if (active && active.parent === row.token && withinInterval) {
        issued = active.token; // the client lost the answer to its last refresh
      } else if (!withinInterval) {
        if (ctx.cfg.refreshTokenRotation) await store.revokeTokenFamily(sql, row.session_id);
        reused = true;
        return null;
      }
    }
    if (!issued) {
      issued = newRefreshToken();
      await store.revokeRefreshToken(sql, row.id);
      await store.insertRefreshToken(sql, {
        token: issued,
        userId: row.user_id,
        sessionId: row.session_id,
        parent: row.token,
      });
    }
    await store.touchSession(sql, row.session_id);
    return await tokenResponse(ctx, sql, row.user_id, row.session_id, issued, "token_refresh");
  });
  if (reused || !result) {
    throw new AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
  }
  return result;
}

/** POST /logout: local ends this session, others every other one, global all of them. */
export async function logout(
  ctx: AuthContext,
  claims: { sub: string; session_id?: string },
  scope: "global" | "local" | "others",
) {
  const sessionId = claims.session_id ?? null;
  if (scope === "local") {
    if (sessionId) await store.deleteSession(ctx.sql, sessionId);
  } else if (scope === "others") {
    await store.deleteSessionsOfUser(ctx.sql, claims.sub, sessionId);
  } else {
    await store.deleteSessionsOfUser(ctx.sql, claims.sub);
  }
}
