// The custom_access_token hook, configured: the Auth server (local/auth/server.ts) built here with
// config.toml's settings plus the hook, over the test stack's database and keys, calls the SQL
// function as supabase_auth_admin with GoTrue's payload and signs the claims it returns; a hook
// error fails the sign-in with the hook's status and message.
import assert from "node:assert/strict";
import postgres from "postgres";
import { readAuthConfig } from "../../local/auth/config.ts";
import { authServer } from "../../local/auth/server.ts";
import { dbUrl } from "../../local/config.ts";
import { jwks } from "../../local/jwt.ts";
import { readKeys } from "../../local/token.ts";
import { newEmail } from "../_support/auth.ts";
import { cfg, connect, env } from "../_support/stack.ts";

const HOOK = `
create schema if not exists tests_hooks;
grant usage on schema tests_hooks to supabase_auth_admin;
create or replace function tests_hooks.custom_claims(event jsonb) returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  if event -> 'claims' ->> 'email' like 'refused-%' then
    return jsonb_build_object('error', jsonb_build_object('http_code', 403,
      'message', 'No tokens for you'));
  end if;
  return jsonb_build_object('claims', (event -> 'claims') || jsonb_build_object(
    'team', 'aide', 'method', event ->> 'authentication_method', 'role_seen', current_user));
end $$;
grant execute on function tests_hooks.custom_claims(jsonb) to supabase_auth_admin;
`;

const claimsOf = (token: string) =>
  JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));

Deno.test("auth: the custom_access_token hook rewrites the claims, or refuses the token", async () => {
  const db = connect();
  const sql = postgres(dbUrl(cfg), { max: 2, onnotice: () => {} });
  try {
    await db.unsafe(HOOK);
    const authConfig = readAuthConfig(Deno.readTextFileSync("supabase/config.toml"));
    authConfig.hooks.customAccessToken = "tests_hooks.custom_claims";
    const keys = readKeys(cfg);
    const handle = authServer({
      sql,
      cfg: authConfig,
      keys,
      publicJwks: jwks(keys),
      apiUrl: env.SUPABASE_URL,
    });
    const info = { remoteAddr: { hostname: "127.0.0.1", port: 1, transport: "tcp" } };
    const post = (path: string, body: unknown, key = env.SUPABASE_ANON_KEY) =>
      handle(
        new Request(`${env.SUPABASE_URL}/auth/v1${path}`, {
          method: "POST",
          headers: {
            apikey: key,
            authorization: `Bearer ${key}`,
            "content-type": "application/json",
            "x-supabase-api-version": "2024-01-01",
          },
          body: JSON.stringify(body),
        }),
        info as Deno.ServeHandlerInfo,
      );
    for (const prefix of ["hooked", "refused"]) {
      const email = newEmail(prefix);
      const created = await post("/admin/users", {
        email,
        password: "a long password",
        email_confirm: true,
      }, env.SUPABASE_SERVICE_ROLE_KEY);
      assert.equal(created.status, 200);
      const res = await post("/token?grant_type=password", { email, password: "a long password" });
      const body = await res.json();
      if (prefix === "refused") {
        assert.equal(res.status, 403);
        assert.equal(body.message, "No tokens for you");
        continue;
      }
      assert.equal(res.status, 200);
      const claims = claimsOf(body.access_token);
      assert.equal(claims.team, "aide");
      assert.equal(claims.method, "password");
      assert.equal(claims.role_seen, "supabase_auth_admin");
      assert.equal(claims.email, email, "the standard claims stay");
      assert.equal(claims.role, "authenticated");
    }
  } finally {
    await db.unsafe("drop schema if exists tests_hooks cascade");
    await db.end();
    await sql.end();
  }
});
