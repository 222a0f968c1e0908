// The SDK's account, models, usage, admin and health calls against the live test stack.
import assert from "node:assert/strict";
import { fakeReply } from "../_support/chat.ts";
import { connect } from "../_support/stack.ts";
import { userClient } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("account: me, update, export; models; health", async () => {
  const { aide, email } = await userClient();
  const me = await aide.account.me() as Any;
  assert.equal(me.email, email);
  const updated = await aide.account.update({
    display_name: "Ada",
    timezone: "Europe/Paris",
  }) as Any;
  assert.equal(updated.display_name, "Ada");
  assert.equal((await aide.account.me() as Any).timezone, "Europe/Paris");
  const exported = await aide.account.export() as Any;
  assert.equal(exported.user.email ?? exported.user?.email, email);

  const models = await aide.models.list() as Any;
  assert.ok((models.models ?? models).length > 0);
  const health = await aide.health() as Any;
  assert.equal(health.status, "ok");
});

Deno.test("usage: a reply's cost shows up by day; admin views refuse a non-admin", async () => {
  const { aide } = await userClient();
  const { id } = await aide.conversations.create() as Any;
  await aide.streamSimple(id, { content: `Hi ${fakeReply("hello there")}` })
    .text();
  const usage = await aide.usage.get() as Any;
  assert.ok(usage.totals.cost_usd > 0);
  const today = new Date().toISOString().slice(0, 10);
  assert.ok(usage.by_day.some((d: Any) => d.day === today || d.date === today));
  await assert.rejects(aide.usage.admin.topUsers(), { status: 403 });
  await assert.rejects(aide.admin.models.list(), { status: 403 });
});

Deno.test("account: delete removes the user and everything they own", async () => {
  const { aide, userId } = await userClient();
  await aide.conversations.create();
  await aide.account.delete();
  const sql = connect();
  try {
    const [{ users, conversations }] = await sql`
      select (select count(*)::int from auth.users where id = ${userId}) as users,
             (select count(*)::int from public.conversations where user_id = ${userId}) as conversations`;
    assert.deepEqual({ users, conversations }, { users: 0, conversations: 0 });
  } finally {
    await sql.end();
  }
});
