// The gateway behaves like Supabase's: functions under /functions/v1/<name>, PostgREST under
// /rest/v1, the JWKS under /auth/v1, CORS preflight reaching the function.
import assert from "node:assert/strict";
import { verifyJwt } from "../../local/jwt.ts";
import { call, env, FUNCTIONS_URL, newUser } from "../_support/stack.ts";

Deno.test("stack.env holds the URLs and keys scripts need", () => {
  for (
    const name of [
      "SUPABASE_URL",
      "SUPABASE_ANON_KEY",
      "SUPABASE_SERVICE_ROLE_KEY",
      "SUPABASE_DB_URL",
    ]
  ) {
    assert.ok(env[name], `${name} missing from stack.env`);
  }
});

Deno.test("the JWKS is served and verifies the API keys, which carry their roles", async () => {
  const jwks = await call(`${env.SUPABASE_URL}/auth/v1/.well-known/jwks.json`);
  assert.equal(jwks.status, 200);
  assert.equal(jwks.body.keys.length, 1);
  const [key] = jwks.body.keys;
  assert.equal(key.alg, "ES256");
  assert.equal(key.d, undefined, "the private part must never be published");
  assert.equal((await verifyJwt(env.SUPABASE_ANON_KEY, key))?.role, "anon");
  assert.equal((await verifyJwt(env.SUPABASE_SERVICE_ROLE_KEY, key))?.role, "service_role");
});

Deno.test("unknown functions are 404, and CORS preflights reach the function", async () => {
  const missing = await call(`${FUNCTIONS_URL}/no-such-function`, { token: env.SUPABASE_ANON_KEY });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, "NOT_FOUND");

  const preflight = await fetch(`${FUNCTIONS_URL}/health`, {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example.com",
      "access-control-request-method": "GET",
      "access-control-request-headers": "authorization, content-type",
    },
  });
  await preflight.body?.cancel();
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/);
});

Deno.test("function errors are JSON in Aide's error shape", async () => {
  const { token } = await newUser("dave");
  const res = await call(`${FUNCTIONS_URL}/health/nope`, { token });
  assert.equal(res.status, 404);
  assert.equal(res.body.error.code, "not_found");
  assert.equal(typeof res.body.error.message, "string");
});
