// Auth hooks of config.toml's [auth.hook.*] that point at Postgres functions
// (pg-functions://postgres/<schema>/<function>), called as GoTrue calls them: as the
// supabase_auth_admin role (so the function's grants are tested as on a hosted project), with a
// statement timeout, with GoTrue's payload; `{"error": {"http_code", "message"}}` in the answer is
// returned to the client as that status and message.
import { AuthError } from "./errors.ts";
import type { Sql } from "./store.ts";

const HOOK_TIMEOUT_MS = 2000;

const ident = (qualified: string) =>
  qualified.split(".").map((part) => `"${part.replace(/"/g, '""')}"`).join(".");

async function callHook(sql: Sql, fn: string, name: string, payload: Record<string, unknown>) {
  const input = {
    metadata: { uuid: crypto.randomUUID(), time: new Date().toISOString(), name },
    ...payload,
  };
  const run = async (tx: Sql) => {
    await tx`set local role supabase_auth_admin`;
    await tx.unsafe(`set local statement_timeout = ${HOOK_TIMEOUT_MS}`);
    const [row] = await tx.unsafe(`select ${ident(fn)}($1::text::jsonb) as out`, [
      JSON.stringify(input),
    ]);
    return row.out as Record<string, unknown> | null;
  };
  // Inside the caller's transaction when there is one (a savepoint keeps the role change local).
  const out = "savepoint" in sql
    ? await (sql as { savepoint: (f: (t: Sql) => unknown) => Promise<unknown> }).savepoint(run)
    : await (sql as { begin: (f: (t: Sql) => unknown) => Promise<unknown> }).begin(run);
  const result = (out ?? {}) as { error?: { http_code?: number; message?: string } };
  if (result.error?.message) {
    throw new AuthError(result.error.http_code || 500, "unknown", result.error.message);
  }
  return result;
}

/** before_user_created: may refuse the sign-up (its error goes back to the client). */
export async function beforeUserCreated(sql: Sql, fn: string, user: Record<string, unknown>) {
  await callHook(sql, fn, "before-user-created", { user });
}

/** custom_access_token: returns the claims to sign (GoTrue requires the standard ones to stay). */
export async function customizeAccessToken(
  sql: Sql,
  fn: string,
  input: { user_id: string; claims: Record<string, unknown>; authentication_method: string },
) {
  const out = await callHook(sql, fn, "customize-access-token", input) as {
    claims?: Record<string, unknown>;
  };
  const claims = out.claims;
  for (const required of ["iss", "aud", "exp", "iat", "sub", "role", "aal", "session_id"]) {
    if (!claims || claims[required] === undefined) {
      throw new AuthError(
        500,
        "unexpected_failure",
        `output claims do not conform to the expected schema: ${required} is required`,
      );
    }
  }
  return claims!;
}
