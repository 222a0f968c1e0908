// Every endpoint of the account, usage and admin functions refuses bad input with a 4xx JSON
// error and writes nothing; GET and PATCH /account/me work as documented.
import assert from "node:assert/strict";
import { chatUser, expectRefused, type RefusedCase, withDb } from "../_support/chat.ts";
import { adminUser } from "./helpers.ts";

Deno.test("GET and PATCH /account/me: name, IANA time zone, preferences (replaced, size-limited)", async () => {
  const alice = await chatUser("me");
  const me = await alice.api("/account/me");
  assert.equal(me.status, 200);
  assert.equal(me.body.id, alice.userId);
  assert.equal(me.body.email, alice.email);
  assert.equal(me.body.timezone, "UTC");
  assert.equal(me.body.role, "user");
  assert.equal(typeof me.body.budget.state, "string");

  const patched = await alice.api("/account/me", {
    method: "PATCH",
    json: {
      display_name: "  Alice  ",
      timezone: "America/Argentina/Buenos_Aires",
      preferences: { theme: "dark", lang: "pt" },
    },
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.body.display_name, "Alice");
  assert.equal(patched.body.timezone, "America/Argentina/Buenos_Aires");
  const again = await alice.api("/account/me", {
    method: "PATCH",
    json: { preferences: { theme: "light" } },
  });
  assert.deepEqual(again.body.preferences, { theme: "light" });
  assert.equal(
    again.body.timezone,
    "America/Argentina/Buenos_Aires",
    "a PATCH changed a field it was not given",
  );
  const [row] = await withDb((sql) =>
    sql`select display_name, timezone, preferences from public.profiles where id = ${alice.userId}`
  );
  assert.deepEqual({ ...row }, {
    display_name: "Alice",
    timezone: "America/Argentina/Buenos_Aires",
    preferences: { theme: "light" },
  });
});

Deno.test("account, usage and admin endpoints reject bad input with a 4xx JSON error and write nothing", async () => {
  const alice = await chatUser("bad");
  const admin = await adminUser("bad-admin");
  const state = () =>
    withDb((sql) =>
      sql`select (select md5(p::text) from public.profiles p where id = ${alice.userId}) as alice,
                 (select count(*) from auth.users where id = ${alice.userId})::int as alice_exists,
                 (select md5(string_agg(m::text, '' order by alias)) from public.models m
                  where alias in ('gpt-5.2', 'bad-input-model')) as models,
                 (select count(*) from public.model_prices
                  where model_alias in ('gpt-5.2', 'bad-input-model'))::int as prices`
    ).then((r) => r[0]);
  const before = await state();
  const price = {
    input_per_mtok: 1,
    output_per_mtok: 1,
    cached_read_per_mtok: 0,
    cache_write_per_mtok: 0,
  };
  const model = {
    alias: "bad-input-model",
    provider: "openai",
    provider_model: "x",
    display_name: "x",
    context_window: 1000,
    max_output_tokens: 100,
  };

  const userCases: RefusedCase[] = [
    ["PATCH", "/account/me", {}, 400],
    ["PATCH", "/account/me", { timezone: "Mars/Olympus_Mons" }, 400],
    ["PATCH", "/account/me", { timezone: "+01:00" }, 400],
    ["PATCH", "/account/me", { timezone: "abc+3" }, 400],
    ["PATCH", "/account/me", { display_name: "x".repeat(201) }, 400],
    ["PATCH", "/account/me", { display_name: "" }, 400],
    ["PATCH", "/account/me", { preferences: [1, 2] }, 400],
    ["PATCH", "/account/me", { preferences: "dark" }, 400],
    ["PATCH", "/account/me", { preferences: { blob: "x".repeat(17_000) } }, 400],
    ["PATCH", "/account/me", { role: "admin" }, 400],
    ["PATCH", "/account/me", { monthly_budget_usd: 1e6 }, 400],
    ["PATCH", "/account/me", { email: "new@example.com" }, 400],
    ["DELETE", "/account", {}, 400],
    ["DELETE", "/account", { confirm: "delete" }, 400],
    ["GET", "/account/export?format=zip", undefined, 400],
    ["GET", "/account/nope", undefined, 404],
    ["GET", "/usage?from=2026-02-30", undefined, 400],
    ["GET", "/usage?from=2026-03-01&to=2026-02-01", undefined, 400],
    ["GET", "/usage?limit=5", undefined, 400],
  ];
  const adminCases: RefusedCase[] = [
    ["GET", "/usage/admin/top-users?limit=0", undefined, 400],
    ["GET", "/usage/admin/top-users?limit=1000", undefined, 400],
    ["GET", "/usage/admin/by-model?period=year", undefined, 400],
    ["GET", "/usage/admin/users?cursor=garbage", undefined, 400],
    ["GET", "/usage/admin/users?from=2000-01-01", undefined, 400],
    ["POST", "/admin/models", {}, 400],
    ["POST", "/admin/models", { ...model, alias: "Bad Alias!" }, 400],
    ["POST", "/admin/models", { ...model, provider: "mistral" }, 400],
    ["POST", "/admin/models", { ...model, context_window: -1 }, 400],
    ["POST", "/admin/models", { ...model, api_key_env: "SUPABASE_SERVICE_ROLE_KEY" }, 400],
    ["POST", "/admin/models", { ...model, api_key_env: "HOME" }, 400],
    ["POST", "/admin/models", { ...model, base_url: "file:///etc/passwd" }, 400],
    ["POST", "/admin/models", { ...model, extra: true }, 400],
    ["POST", "/admin/models", { ...model, fallback: ["no-such-model"] }, 422],
    ["POST", "/admin/models", { ...model, fallback: ["bad-input-model"] }, 422],
    ["POST", "/admin/models", { ...model, alias: "gpt-5.2" }, 409],
    ["POST", "/admin/models", { ...model, price: { ...price, input_per_mtok: -1 } }, 400],
    ["PATCH", "/admin/models/gpt-5.2", {}, 400],
    ["PATCH", "/admin/models/gpt-5.2", { alias: "renamed" }, 400],
    ["PATCH", "/admin/models/gpt-5.2", { enabled: "no" }, 400],
    ["PATCH", "/admin/models/gpt-5.2", { fallback: ["gpt-5.2"] }, 422],
    ["PATCH", "/admin/models/no-such-model", { enabled: false }, 404],
    ["PATCH", "/admin/models/NOT VALID", { enabled: false }, 400],
    ["GET", "/admin/models/no-such-model/prices", undefined, 404],
    ["POST", "/admin/models/gpt-5.2/prices", {}, 400],
    ["POST", "/admin/models/gpt-5.2/prices", { ...price, effective_from: "tomorrow" }, 400],
    ["POST", "/admin/models/gpt-5.2/prices", { ...price, output_per_mtok: "free" }, 400],
    [
      "POST",
      "/admin/models/gpt-5.2/prices",
      { ...price, effective_from: "2025-12-01T00:00:00Z" },
      409,
    ],
    ["POST", "/admin/models/no-such-model/prices", price, 404],
  ];
  await expectRefused(alice, userCases);
  await expectRefused(admin, adminCases);

  // Not JSON, malformed JSON, too large.
  const raw = (path: string, method: string, body: string, type: string) =>
    alice.api(path, { method, body, headers: { "content-type": type } });
  assert.equal(
    (await raw("/account/me", "PATCH", '{"display_name": "x"}', "text/plain")).status,
    415,
  );
  assert.equal(
    (await raw("/account/me", "PATCH", '{"display_name": ', "application/json")).status,
    400,
  );
  assert.equal(
    (await raw("/account", "DELETE", '{"confirm": "DELETE"', "application/json")).status,
    400,
  );
  assert.equal(
    (await raw("/account/me", "PATCH", "x".repeat(1_000_001), "application/json")).status,
    413,
  );

  assert.deepEqual(await state(), before);
});
