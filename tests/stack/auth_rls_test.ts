// The stack is real: user JWTs pass RLS through PostgREST, other users' rows stay invisible,
// and tokens not signed by the stack's key are rejected everywhere.
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { generateSigningKeys, signJwt } from "../../local/jwt.ts";
import { readKeys } from "../../local/token.ts";
import { call, cfg, connect, env, FUNCTIONS_URL, newUser, REST_URL } from "../_support/stack.ts";

Deno.test("a user sees only their own profile through PostgREST; anon sees none", async () => {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  const mine = await call(`${REST_URL}/profiles?select=id,email`, { token: alice.token });
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.body, [{ id: alice.userId, email: alice.email }]);

  const theirs = await call(`${REST_URL}/profiles?id=eq.${bob.userId}`, { token: alice.token });
  assert.deepEqual(theirs.body, []);

  const anon = await call(`${REST_URL}/profiles?select=id`, { token: env.SUPABASE_ANON_KEY });
  assert.equal(anon.status, 200);
  assert.deepEqual(anon.body, []);
});

Deno.test("a user cannot change another user's profile, nor their own role", async () => {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  const patch = (id: string, body: unknown) =>
    call(`${REST_URL}/profiles?id=eq.${id}`, {
      method: "PATCH",
      token: alice.token,
      headers: { "content-type": "application/json", prefer: "return=representation" },
      body: JSON.stringify(body),
    });

  const other = await patch(bob.userId, { display_name: "hijacked" });
  assert.deepEqual(other.body, []); // RLS: no visible row to update
  const role = await patch(alice.userId, { role: "admin" });
  assert.equal(role.status, 403); // column privilege: role is not updatable by users
  const own = await patch(alice.userId, { display_name: "Alice" });
  assert.equal(own.status, 200);

  const sql = connect();
  try {
    const rows = await sql`select id, display_name, role from public.profiles
                           where id in (${alice.userId}, ${bob.userId})`;
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    assert.equal(byId[alice.userId].display_name, "Alice");
    assert.equal(byId[alice.userId].role, "user");
    assert.notEqual(byId[bob.userId].display_name, "hijacked");
  } finally {
    await sql.end();
  }
});

Deno.test("tokens signed with another key, or expired, are rejected by PostgREST and the gateway", async () => {
  const alice = await newUser("alice");
  const claims = JSON.parse(atob(alice.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  const foreign = await signJwt(claims, {
    ...(await generateSigningKeys()),
    kid: readKeys(cfg).kid,
  });
  const expired = await signJwt(
    { ...claims, exp: Math.floor(Date.now() / 1000) - 60 },
    readKeys(cfg),
  );

  for (const token of [foreign, expired, "not-a-jwt"]) {
    const rest = await call(`${REST_URL}/profiles?select=id`, { token });
    assert.equal(rest.status, 401, `PostgREST accepted ${token.slice(0, 20)}`);
    const fn = await call(`${FUNCTIONS_URL}/health`, { token });
    assert.equal(fn.status, 401);
    assert.deepEqual(fn.body, { code: 401, message: "Invalid JWT" });
  }
  const missing = await fetch(`${FUNCTIONS_URL}/health`);
  assert.equal(missing.status, 401);
  assert.equal((await missing.json()).message, "Missing authorization header");
});

Deno.test("supabase-js getClaims verifies user tokens against the stack's JWKS", async () => {
  const alice = await newUser("alice");
  const supabase = createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false },
  });
  const ok = await supabase.auth.getClaims(alice.token);
  assert.equal(ok.error, null);
  assert.equal(ok.data?.claims.sub, alice.userId);
  assert.equal(ok.data?.claims.role, "authenticated");

  const forged = await signJwt(ok.data!.claims as Record<string, unknown>, {
    ...(await generateSigningKeys()),
    kid: readKeys(cfg).kid,
  });
  const bad = await supabase.auth.getClaims(forged);
  assert.ok(bad.error, "a token signed with another key must not verify");
});

Deno.test("npm run token prints a JWT alone on stdout, for the same user each time", async () => {
  const email = `carol-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const run = async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "local/token.ts", "--stack", cfg.name, email],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout);
  };
  const first = await run();
  const second = await run();
  assert.match(first, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const sub = (t: string) =>
    JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub;
  assert.equal(sub(first), sub(second));

  const me = await call(`${REST_URL}/profiles?select=email`, { token: first.trim() });
  assert.deepEqual(me.body, [{ email }]);
});
