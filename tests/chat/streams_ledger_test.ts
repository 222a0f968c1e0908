// Replies in flight per user are capped (chat.max_streams_per_user, 3 by default): one more is
// answered 429 too_many_streams and stores nothing. Every provider call of a reply has its ledger
// row from the moment it starts, and a call whose function was killed is closed by recovery with
// output tokens estimated from the saved text, marked estimated.
import assert from "node:assert/strict";
import {
  chatUser,
  documentStatus,
  marker,
  queueScript,
  readSse,
  SONNET,
  until,
  withDb,
} from "../_support/chat.ts";

const slow = (text: string) => `${text} [[fake {"ttft_ms": 4000}]]`;

Deno.test("a fourth reply in flight is refused with 429 too_many_streams and stores nothing", async () => {
  const alice = await chatUser("streams");
  const conversations = await Promise.all([1, 2, 3, 4].map(() => alice.createConversation()));
  const running = await Promise.all(
    conversations.slice(0, 3).map((id, i) => alice.send(id, { content: slow(`slow ${i}`) })),
  );
  for (const r of running) assert.equal(r.status, 200);
  const fourth = await alice.send(conversations[3], { content: "one too many" });
  const body = await fourth.json();
  assert.equal(fourth.status, 429, JSON.stringify(body));
  assert.equal(body.error.code, "too_many_streams");
  assert.ok(Number(fourth.headers.get("retry-after")) >= 1);
  await withDb(async (sql) => {
    const [{ n }] = await sql`select count(*)::int as n from public.messages
                              where conversation_id = ${conversations[3]}`;
    assert.equal(n, 0, "the refused request stored a message");
  });
  await Promise.all(running.map(readSse));
  const after = await alice.send(conversations[3], { content: "now there is room" });
  assert.equal(after.status, 200);
  await readSse(after);
});

Deno.test("a provider call has its ledger row from its start, completed when its usage arrives", async () => {
  const bob = await chatUser("ledger");
  const conversationId = await bob.createConversation({
    title: "ledger",
    model: "claude-sonnet-4.6",
  });
  const res = await bob.send(conversationId, { content: slow("bill me") });
  const pending = await until(
    "the pending ledger row",
    () =>
      withDb((sql) =>
        sql`select status, input_tokens, output_tokens, estimated, cost_micro_usd from public.usage_ledger
          where conversation_id = ${conversationId} and product_step = 'chat'`
          .then((rows) => rows.find((r) => r.status === "pending"))
      ),
  );
  assert.ok(pending.input_tokens > 0, "no input estimate");
  assert.equal(pending.estimated, true);
  assert.ok(pending.cost_micro_usd > 0, "the estimate is not priced");
  await readSse(res);
  await withDb(async (sql) => {
    const rows = await sql`select status, estimated, provider_model from public.usage_ledger
                           where conversation_id = ${conversationId} and product_step = 'chat'`;
    assert.deepEqual(rows.map((r) => [r.status, r.estimated, r.provider_model]), [[
      "ok",
      false,
      SONNET,
    ]]);
    const [c] =
      await sql`select c.input_tokens::int, (select sum(input_tokens) from public.usage_ledger l
                                                 where l.conversation_id = c.id)::int as ledger
                          from public.conversations c where c.id = ${conversationId}`;
    assert.equal(
      c.input_tokens,
      c.ledger,
      `conversation totals drifted from the ledger: ${JSON.stringify(c)}`,
    );
  });
});

Deno.test("recovery closes a call whose function was killed: output estimated from the saved text, marked estimated", async () => {
  const carol = await chatUser("killed-reply");
  const conversationId = await carol.createConversation({ title: "killed" });
  await withDb(async (sql) => {
    // As a killed reply leaves it: the assistant message streaming with 400 characters saved,
    // its provider call started (pending), neither touched for longer than the wall clock.
    const [user] =
      await sql`insert into public.messages (conversation_id, user_id, role, status, content, parts)
                             values (${conversationId}, ${carol.userId}, 'user', 'complete', 'hi', '[]')
                             returning id`;
    const text = "y".repeat(400);
    const [reply] =
      await sql`insert into public.messages (conversation_id, user_id, parent_id, role, status,
                                                           model, content, parts, created_at, updated_at)
                              values (${conversationId}, ${carol.userId}, ${user.id}, 'assistant', 'streaming',
                                      'claude-sonnet-4.6', ${text},
                                      ${
        sql.json([{ type: "text", text }])
      }, now() - interval '1 hour',
                                      now() - interval '1 hour')
                              returning id`;
    await sql`select private.record_usage(${
      sql.json({
        call_id: crypto.randomUUID(),
        user_id: carol.userId,
        conversation_id: conversationId,
        message_id: reply.id,
        product_step: "chat",
        provider: "anthropic",
        model: "claude-sonnet-4.6",
        provider_model: SONNET,
        status: "pending",
        input_tokens: 1000,
        estimated: true,
      })
    })`;
    await sql`update public.usage_ledger set created_at = now() - interval '1 hour' where message_id = ${reply.id}`;

    await sql`select private.recover_provider_calls(100)`;
    await sql`select private.recover_stuck_messages(100)`;
    const [row] =
      await sql`select status, error_type, estimated, input_tokens, output_tokens, cost_micro_usd
                            from public.usage_ledger where message_id = ${reply.id}`;
    assert.deepEqual(
      { ...row, cost_micro_usd: row.cost_micro_usd > 0 },
      {
        status: "error",
        error_type: "interrupted",
        estimated: true,
        input_tokens: 1000,
        output_tokens: 100,
        cost_micro_usd: true,
      },
    );
    const [message] =
      await sql`select status, error_type, input_tokens, output_tokens, cost_micro_usd
                                from public.messages where id = ${reply.id}`;
    assert.equal(message.status, "error");
    assert.equal(message.error_type, "interrupted");
    assert.equal(message.output_tokens, 100, "the message's totals miss the estimated output");
    assert.equal(message.cost_micro_usd, row.cost_micro_usd);
    const steps =
      await sql`select name from private.recovery_steps where handler = 'private.recover_provider_calls'`;
    assert.equal(steps.length, 1);
  });
});

Deno.test("embedding requests are in the ledger from their start too; a failed one bills nothing", async () => {
  const dave = await chatUser("embed-ledger");
  const slowWord = marker("slowembed");
  await queueScript("openai", { delay_ms: 2000 }, { contains: slowWord });
  const created = await dave.api("/documents", {
    method: "POST",
    json: { title: "Slow", content: `The ${slowWord} text.` },
  });
  assert.equal(created.status, 201, created.text);
  const rows = (status: string) =>
    withDb((sql) =>
      sql`select status, input_tokens, estimated from public.usage_ledger
          where user_id = ${dave.userId} and product_step = 'embedding' and status = ${status}`
    );
  const [pendingRow] = await until("the pending embedding row", async () => {
    const r = await rows("pending");
    return r.length ? r : null;
  });
  assert.ok(pendingRow.input_tokens > 0);
  assert.equal(pendingRow.estimated, true);
  await documentStatus(created.body.id, ["ready"]);
  const [done] = await rows("ok");
  assert.equal(done.estimated, false);
  assert.equal((await rows("pending")).length, 0);

  const failWord = marker("failembed");
  await queueScript("openai", { status: 500, retry_after: 0.01 }, { contains: failWord }, 3);
  const failing = await dave.api("/documents", {
    method: "POST",
    json: { title: "Failing", content: `The ${failWord} text.` },
  });
  await until("the failed attempt", async () => (await rows("error")).length === 3, 15_000);
  assert.ok(
    (await rows("error")).every((r) => r.input_tokens === 0),
    "a refused request was billed",
  );
  assert.equal((await rows("pending")).length, 0);
  assert.ok(failing.body.id);
});
