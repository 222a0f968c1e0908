// Feedback on replies: one per user per message (sending again replaces it), only on one's own
// assistant replies, and the admins' report by model and period.
import assert from "node:assert/strict";
import { chatUser, marker, readSse, withDb } from "../_support/chat.ts";

type Sql = Parameters<Parameters<typeof withDb>[0]>[0];

/** An assistant reply written by `model`, stored directly (the report groups by model). */
async function storedReply(sql: Sql, userId: string, conversation: string, model: string) {
  const [m] = await sql`
    insert into public.messages (conversation_id, user_id, role, content, parts, model)
    values (${conversation}, ${userId}, 'assistant', 'a reply', '[{"type":"text","text":"a reply"}]',
            ${model}) returning id`;
  return m.id as string;
}

Deno.test("feedback on a reply is stored once per user and message, and changing it replaces it", async () => {
  const alice = await chatUser("fb");
  const conversation = await alice.createConversation();
  await readSse(await alice.send(conversation, { content: "hello" }));
  const { body } = await alice.api(`/conversations/${conversation}`);
  const [question, reply] = body.messages;
  const path = `/conversations/${conversation}/messages/${reply.id}/feedback`;

  const up = await alice.api(path, { method: "POST", json: { rating: "up" } });
  assert.equal(up.status, 200);
  assert.equal(up.body.rating, "up");
  assert.equal(up.body.comment, null);
  const down = await alice.api(path, {
    method: "POST",
    json: { rating: "down", comment: "  made up a citation  " },
  });
  assert.equal(down.status, 200);
  assert.deepEqual([down.body.rating, down.body.comment], ["down", "made up a citation"]);

  const rows = await withDb((sql) =>
    sql`select rating, comment, model, created_at < updated_at as changed
        from public.message_feedback where message_id = ${reply.id}`
  );
  assert.deepEqual(rows.map((r) => ({ ...r })), [
    { rating: "down", comment: "made up a citation", model: reply.model, changed: true },
  ]);

  // Not a reply, not a rating, someone else's reply: refused, nothing stored.
  const own = await alice.api(`/conversations/${conversation}/messages/${question.id}/feedback`, {
    method: "POST",
    json: { rating: "up" },
  });
  assert.equal(own.status, 422);
  assert.equal(own.body.error.code, "not_a_reply");
  const bad = await alice.api(path, { method: "POST", json: { rating: "meh" } });
  assert.equal(bad.status, 400);
  const bob = await chatUser("fb");
  const theirs = await bob.api(path, { method: "POST", json: { rating: "up" } });
  assert.equal(theirs.status, 404);
  const [{ n }] = await withDb((sql) =>
    sql`select count(*)::int as n from public.message_feedback
        where message_id in (${question.id}, ${reply.id})`
  );
  assert.equal(n, 1);
  const [{ rating }] = await withDb((sql) =>
    sql`select rating from public.message_feedback where message_id = ${reply.id}`
  );
  assert.equal(rating, "down");
});

Deno.test("admins see feedback by model and period; other users get 403", async () => {
  const [alice, bob, admin] = await Promise.all([
    chatUser("fb"),
    chatUser("fb"),
    chatUser("fbadmin"),
  ]);
  const model = marker("fb-model");
  const [a, b] = await Promise.all([alice.createConversation(), bob.createConversation()]);
  const [ra, rb1, rb2] = await withDb(async (sql) => {
    await sql`update public.profiles set role = 'admin' where id = ${admin.userId}`;
    return [
      await storedReply(sql, alice.userId, a, model),
      await storedReply(sql, bob.userId, b, model),
      await storedReply(sql, bob.userId, b, model),
    ];
  });
  const rate = (u: typeof alice, c: string, m: string, json: unknown) =>
    u.api(`/conversations/${c}/messages/${m}/feedback`, { method: "POST", json });
  assert.equal((await rate(alice, a, ra, { rating: "up" })).status, 200);
  assert.equal((await rate(bob, b, rb1, { rating: "down", comment: "too long" })).status, 200);
  assert.equal((await rate(bob, b, rb2, { rating: "up" })).status, 200);

  const today = new Date().toISOString().slice(0, 10);
  const report = await admin.api(`/usage/admin/feedback?period=day&from=${today}&to=${today}`);
  assert.equal(report.status, 200);
  const rows = report.body.rows.filter((r: { model: string }) => r.model === model);
  assert.deepEqual(rows, [
    { period_start: today, model, up: 2, down: 1, comments: 1, users: 2 },
  ]);
  const week = await admin.api(`/usage/admin/feedback?period=week`);
  const weekRow = week.body.rows.find((r: { model: string }) => r.model === model);
  assert.equal(weekRow.up + weekRow.down, 3);

  const refused = await alice.api(`/usage/admin/feedback`);
  assert.equal(refused.status, 403);
});
