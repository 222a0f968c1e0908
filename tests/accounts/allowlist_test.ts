// The email-domain allowlist: enforced on every authenticated request (403 domain_not_allowed),
// and at sign-up by the SQL "before user created" hook. The test allows example.com, the domain
// every test user has, so tests running at the same time are not affected; its blocked user is
// from blocked.test.
import assert from "node:assert/strict";
import { issueUserToken } from "../../local/token.ts";
import { chatUser, until, withDb } from "../_support/chat.ts";
import { call, cfg, FUNCTIONS_URL, rest } from "../_support/stack.ts";

const setAllowlist = (domains: string[]) =>
  withDb((sql) =>
    sql`update public.app_settings set value = ${
      sql.json(domains)
    } where key = 'auth.allowed_email_domains'`
  );

Deno.test("a user from a disallowed domain gets 403 on every endpoint; the sign-up hook rejects them", async () => {
  const allowed = await chatUser("allowed");
  const blocked = await issueUserToken(cfg, `eve-${crypto.randomUUID().slice(0, 8)}@blocked.test`);
  const conversationId = crypto.randomUUID();
  const endpoints: [string, string, unknown?][] = [
    ["GET", "/conversations"],
    ["POST", "/conversations", { title: "hi" }],
    ["GET", `/conversations/${conversationId}`],
    ["POST", `/conversations/${conversationId}/messages`, { content: "hello" }],
    ["GET", "/models"],
    ["GET", "/usage"],
    ["GET", "/usage/admin/top-users"],
    ["GET", "/account/me"],
    ["PATCH", "/account/me", { display_name: "Eve" }],
    ["GET", "/account/export"],
    ["DELETE", "/account", { confirm: "DELETE" }],
    ["GET", "/admin/models"],
  ];
  const as = (token: string, method: string, path: string, json?: unknown) =>
    call(`${FUNCTIONS_URL}${path}`, {
      method,
      token,
      headers: json === undefined ? {} : { "content-type": "application/json" },
      body: json === undefined ? undefined : JSON.stringify(json),
    });

  await setAllowlist(["example.com"]);
  try {
    // The functions cache the list for a few seconds.
    await until(
      "the allowlist to apply",
      async () => (await as(blocked.token, "GET", "/account/me")).status === 403,
      20_000,
    );
    for (const [method, path, json] of endpoints) {
      const res = await until(`403 on ${method} ${path}`, async () => {
        const r = await as(blocked.token, method, path, json);
        return r.status === 403 ? r : null;
      }, 20_000);
      assert.equal(res.body.error.code, "domain_not_allowed", `${method} ${path}`);
      assert.equal(typeof res.body.error.message, "string");
    }
    // The same rule holds in RLS: nothing shared is readable through /rest/v1 either.
    const shared = await rest(allowed.token, "/documents?select=id", {
      method: "POST",
      body: JSON.stringify({ kind: "note", title: "shared", content: "x", visibility: "shared" }),
    });
    assert.equal(shared.status, 201, shared.text);
    const docId = shared.body[0].id;
    assert.equal((await rest(allowed.token, `/documents?id=eq.${docId}`)).body.length, 1);
    assert.deepEqual((await rest(blocked.token, `/documents?id=eq.${docId}`)).body, []);
    assert.deepEqual((await rest(blocked.token, "/search_index?select=id&limit=1")).body, []);
    assert.deepEqual((await rest(blocked.token, "/models?select=alias&limit=1")).body, []);

    // The domain rule itself (private.email_domain_allowed, inside private.account_access).
    await withDb(async (sql) => {
      const allowedEmail = async (email: string | null) =>
        (await sql`select private.email_domain_allowed(${email}) as ok`)[0].ok;
      assert.equal(await allowedEmail("a@Example.COM"), true);
      assert.equal(await allowedEmail("a@blocked.test"), false);
      assert.equal(await allowedEmail("a@sub.example.com"), false);
      assert.equal(await allowedEmail("a@example.com.evil.test"), false);
      assert.equal(await allowedEmail(null), false);
      const [{ access }] = await sql`select private.account_access(${blocked.userId}) as access`;
      assert.equal(access, "domain_not_allowed");
    });

    // Everyone from an allowed domain goes on as before.
    assert.equal((await allowed.api("/account/me")).status, 200);
    assert.equal((await allowed.api("/conversations")).status, 200);

    await withDb(async (sql) => {
      const [profile] =
        await sql`select display_name from public.profiles where id = ${blocked.userId}`;
      assert.notEqual(profile.display_name, "Eve", "a blocked request wrote to the profile");
      const [{ n }] =
        await sql`select count(*)::int as n from public.conversations where user_id = ${blocked.userId}`;
      assert.equal(n, 0);
      assert.equal(
        (await sql`select 1 from auth.users where id = ${blocked.userId}`).length,
        1,
        "the blocked user was deleted",
      );

      // The sign-up hook, called as Supabase Auth calls it (role supabase_auth_admin).
      const event = (email: string) => ({
        metadata: {
          uuid: crypto.randomUUID(),
          time: new Date().toISOString(),
          name: "before-user-created",
          ip_address: "127.0.0.1",
        },
        user: {
          id: crypto.randomUUID(),
          aud: "authenticated",
          role: "",
          email,
          phone: "",
          app_metadata: { provider: "email", providers: ["email"] },
          user_metadata: {},
          identities: [],
          is_anonymous: false,
        },
      });
      const hook = (email: string) =>
        sql.begin(async (tx) => {
          await tx`set local role supabase_auth_admin`;
          const [{ out }] = await tx`select public.hook_before_user_created(${
            tx.json(event(email))
          }) as out`;
          return out;
        });
      const rejected = await hook("mallory@blocked.test");
      assert.equal(rejected.error.http_code, 403);
      assert.equal(typeof rejected.error.message, "string");
      assert.deepEqual(await hook("bob@EXAMPLE.com"), {});
      const noEmail = await sql.begin(async (tx) => {
        await tx`set local role supabase_auth_admin`;
        const [{ out }] = await tx`select public.hook_before_user_created(${
          tx.json({ user: { phone: "+15550100" } })
        }) as out`;
        return out;
      });
      assert.equal(
        noEmail.error.http_code,
        403,
        "with an allowlist, a sign-up without email is rejected",
      );

      // Only Supabase Auth may call the hook.
      for (const role of ["authenticated", "anon"]) {
        await assert.rejects(
          sql.begin(async (tx) => {
            await tx.unsafe(`set local role ${role}`);
            await tx`select public.hook_before_user_created('{}'::jsonb)`;
          }),
          /permission denied/,
        );
      }
    });
  } finally {
    await setAllowlist([]);
  }
  // Empty again: everyone is let in (once the cache expires), and the hook lets anyone sign up.
  await until(
    "the empty allowlist to apply",
    async () => (await as(blocked.token, "GET", "/account/me")).status === 200,
    20_000,
  );
  await withDb(async (sql) => {
    const [{ out }] = await sql`select public.hook_before_user_created(${
      sql.json({ user: { email: "x@blocked.test" } })
    }) as out`;
    assert.deepEqual(out, {});
  });
});
