// Provider failures, tools, long histories and branches.
import assert from "node:assert/strict";
import {
  chatUser,
  type Chunk,
  GPT,
  marker,
  providerRequests,
  queueScript,
  readSse,
  SONNET,
  textOf,
  withDb,
} from "../_support/chat.ts";

const ledger = (messageId: string) =>
  withDb((sql) =>
    sql`select model, attempt, status, error_type from public.usage_ledger
        where message_id = ${messageId} order by attempt`
  );

async function assistantOf(conversationId: string) {
  return await withDb((sql) =>
    sql`select * from public.messages where conversation_id = ${conversationId} and role = 'assistant'
        order by created_at desc limit 1`.then((r) => r[0])
  );
}

Deno.test("overloaded before the first token: retried with backoff, and every attempt is in the ledger", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  const tag = marker("retry");
  await queueScript("anthropic", { status: 529, retry_after: 0.05 }, {
    contains: tag,
    model: SONNET,
  }, 2);
  const chunks = await readSse(
    await alice.send(conversationId, { content: `retry ${tag}` }),
  ) as Chunk[];
  assert.match(textOf(chunks), /^Reply from claude-sonnet/);
  const message = await assistantOf(conversationId);
  assert.equal(message.status, "complete");
  assert.deepEqual((await ledger(message.id)).map((r) => [r.attempt, r.status, r.error_type]), [
    [1, "error", "overloaded"],
    [2, "error", "overloaded"],
    [3, "ok", null],
  ]);
});

Deno.test("a model that keeps failing before the first token falls back to the next model in its chain", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  const tag = marker("fallback");
  await queueScript("anthropic", { status: 500, retry_after: 0.05 }, {
    contains: tag,
    model: SONNET,
  }, 3);
  const chunks = await readSse(
    await alice.send(conversationId, { content: `fallback ${tag}` }),
  ) as Chunk[];
  assert.match(textOf(chunks), new RegExp(`^Reply from ${GPT}`));
  const message = await assistantOf(conversationId);
  assert.equal(message.model, "gpt-5.2");
  assert.equal(message.provider, "openai");
  assert.deepEqual((await ledger(message.id)).map((r) => `${r.model}:${r.status}`), [
    "claude-sonnet-4.6:error",
    "claude-sonnet-4.6:error",
    "claude-sonnet-4.6:error",
    "gpt-5.2:ok",
  ]);
});

Deno.test("a failure after the first token ends the message in error, keeps the partial text, and is not retried", async () => {
  const alice = await chatUser("alice");
  for (const fault of ["error_after_tokens", "drop_after_tokens"]) {
    const conversationId = await alice.createConversation();
    const tag = marker("midstream");
    const script = { [fault]: 3, text: "one two three four five six" };
    const chunks = await readSse(
      await alice.send(conversationId, { content: `${tag} [[fake ${JSON.stringify(script)}]]` }),
    ) as Chunk[];
    assert.equal(textOf(chunks), "one two three ");
    const error = chunks.find((c) => c.type === "error");
    assert.ok(error, `${fault}: the stream has no error chunk`);
    assert.equal(typeof error.errorText, "string");
    const message = await assistantOf(conversationId);
    assert.equal(message.status, "error");
    assert.equal(message.content, "one two three ");
    assert.equal(message.parts.at(-1).type, "error");
    assert.ok(message.error_type);
    assert.equal(
      (await providerRequests("anthropic", tag)).length,
      1,
      `${fault}: retried after the first token`,
    );
    const rows = await ledger(message.id);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, "error");
  }
});

Deno.test("tools: each call and result is a part with its duration, over several steps", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  const tag = marker("tools");
  await queueScript(
    "anthropic",
    { tool_calls: [{ name: "get_current_time", arguments: { timezone: "Asia/Tokyo" } }] },
    { contains: tag },
    1,
  );
  await queueScript("anthropic", { tool_calls: [{ name: "get_current_time", arguments: {} }] }, {
    contains: tag,
  }, 1);
  await queueScript("anthropic", { text: "It is late in Tokyo." }, { contains: tag }, 1);
  const chunks = await readSse(
    await alice.send(conversationId, { content: `What time is it? ${tag}` }),
  ) as Chunk[];
  assert.equal(chunks.filter((c) => c.type === "tool-output-available").length, 2);
  assert.equal(chunks.filter((c) => c.type === "start-step").length, 3);
  assert.equal(textOf(chunks), "It is late in Tokyo.");

  const message = await assistantOf(conversationId);
  assert.deepEqual(message.parts.map((p: { type: string }) => p.type), [
    "step_start",
    "tool_call",
    "tool_result",
    "step_start",
    "tool_call",
    "tool_result",
    "step_start",
    "text",
  ]);
  const [firstResult] = message.parts.filter((p: { type: string }) => p.type === "tool_result");
  assert.equal(firstResult.name, "get_current_time");
  assert.equal(firstResult.output.timezone, "Asia/Tokyo");
  assert.equal(typeof firstResult.duration_ms, "number");
  assert.equal(message.finish_reason, "stop");
  // Three model calls for one reply, all metered against it.
  assert.equal((await ledger(message.id)).length, 3);
  await withDb(async (sql) => {
    const usage =
      await sql`select tool_name, duration_ms from public.tool_usage where message_id = ${message.id}`;
    assert.equal(usage.length, 2);
    assert.ok(usage.every((u) => u.tool_name === "get_current_time" && u.duration_ms >= 0));
  });
});

Deno.test("tools: the step limit holds when the model keeps calling tools", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  const tag = marker("steps");
  await queueScript("anthropic", { tool_calls: [{ name: "get_current_time", arguments: {} }] }, {
    contains: tag,
  }, 50);
  await readSse(await alice.send(conversationId, { content: `loop ${tag}` }));
  const message = await assistantOf(conversationId);
  const maxSteps = await withDb((sql) =>
    sql`select value::int as n from public.app_settings where key = 'chat.max_tool_steps'`.then((
      r,
    ) => r[0].n)
  );
  assert.equal((await providerRequests("anthropic", tag)).length, maxSteps);
  assert.equal(message.status, "complete");
  assert.equal(message.finish_reason, "tool-calls");
  assert.equal(
    message.parts.filter((p: { type: string }) => p.type === "tool_call").length,
    maxSteps,
  );
});

Deno.test("long histories are windowed to the model's context, with a stored summary of older turns", async () => {
  const alice = await chatUser("alice");
  const alias = `tiny-${marker()}`;
  await withDb((sql) =>
    sql`insert into public.models (alias, provider, provider_model, display_name, context_window, max_output_tokens, capabilities)
        values (${alias}, 'anthropic', 'claude-tiny', 'Tiny test model', 400, 100, '{}')`
  );
  const conversationId = await alice.createConversation({ title: "long", model: alias });
  const first = marker("oldest");
  // Every turn carries its own random word, so the fake's log (shared by every test, and kept across
  // runs on a reused stack) yields this test's requests and no one else's.
  const turns = [first, ...[1, 2, 3, 4].map((i) => marker(`turn${i}`))];
  const last = turns[4];
  const filler = "lorem ipsum dolor sit amet ".repeat(12); // ~80 tokens a message
  for (const turn of turns) {
    await readSse(await alice.send(conversationId, { content: `${turn} ${filler}` }));
  }
  const [conversation] = await withDb((sql) =>
    sql`select summary, summary_through_id from public.conversations where id = ${conversationId}`
  );
  assert.ok(conversation.summary, "no summary was stored");
  assert.ok(conversation.summary_through_id);
  await withDb(async (sql) => {
    const steps = await sql`select count(*)::int as n from public.usage_ledger
                            where conversation_id = ${conversationId} and product_step = 'summary'`;
    assert.ok(steps[0].n >= 1, "summaries are not metered");
  });
  // The oldest turn reached the utility model (to be summarized) but is no longer sent to the chat model.
  const lastChat = (await providerRequests("anthropic", last)).filter((c) =>
    c.model === "claude-tiny" && c.last_user_text.startsWith(last)
  );
  // One request per chat attempt of the newest turn: a retry (an attempt timed out under load) is
  // a second request, and it is in the ledger too.
  const [{ attempts }] = await withDb((sql) =>
    sql`select count(*)::int as attempts from public.usage_ledger l
        join public.messages m on m.id = l.message_id
        where m.conversation_id = ${conversationId} and m.role = 'assistant'
          and l.product_step = 'chat' and l.provider_model = 'claude-tiny'
          and m.created_at = (select max(created_at) from public.messages
                              where conversation_id = ${conversationId} and role = 'assistant')`
  );
  assert.ok(lastChat.length >= 1, "the newest turn never reached the chat model");
  assert.equal(lastChat.length, attempts);
  const chatCalls = (await providerRequests("anthropic", first)).filter((c) =>
    c.model === "claude-tiny"
  );
  assert.ok(chatCalls.length >= 1, "the oldest turn was never sent to the chat model");
  assert.ok(
    !chatCalls.some((c) => c.last_user_text.startsWith(last)),
    "the newest request still carries the oldest turn",
  );
});

Deno.test("editing a message creates a sibling branch; the old branch stays readable", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  await readSse(await alice.send(conversationId, { content: "first question" }));
  await readSse(await alice.send(conversationId, { content: "second question" }));
  const before = (await alice.api(`/conversations/${conversationId}`)).body;
  assert.deepEqual(
    before.messages.map((m: { content: string }) => m.content.replace(/^Reply from \S+ /, "")),
    [
      "first question",
      "first question",
      "second question",
      "second question",
    ],
  );
  const secondUser = before.messages[2];

  // Edit the second question: a sibling under the same parent.
  await readSse(
    await alice.send(conversationId, {
      content: "second question, edited",
      parent_id: secondUser.parent_id,
    }),
  );
  const after = (await alice.api(`/conversations/${conversationId}`)).body;
  assert.equal(after.messages.length, 4);
  assert.equal(after.messages[2].content, "second question, edited");
  assert.equal(after.messages[2].parent_id, secondUser.parent_id);
  assert.notEqual(after.active_leaf_id, before.active_leaf_id);

  const old =
    (await alice.api(`/conversations/${conversationId}/messages?leaf=${before.active_leaf_id}`))
      .body;
  assert.deepEqual(
    old.messages.map((m: { id: string }) => m.id),
    before.messages.map((m: { id: string }) => m.id),
  );

  // Regenerate the last reply: another sibling, nothing deleted.
  const regenerate = await alice.api(
    `/conversations/${conversationId}/messages/${after.active_leaf_id}/regenerate`,
    { method: "POST" },
  );
  const regenerated = await readSse(new Response(regenerate.text)) as Chunk[];
  const newLeaf = regenerated[0].messageId;
  const final = (await alice.api(`/conversations/${conversationId}`)).body;
  assert.equal(final.active_leaf_id, newLeaf);
  assert.equal(final.messages.at(-2).id, after.messages[2].id);
  await withDb(async (sql) => {
    const [{ n }] =
      await sql`select count(*)::int as n from public.messages where conversation_id = ${conversationId}`;
    assert.equal(n, 7); // 2 + 2 + 2 (edit) + 1 (regenerated reply)
  });
  // Switching back to the old branch.
  const switched = await alice.api(`/conversations/${conversationId}`, {
    method: "PATCH",
    json: { active_leaf_id: before.active_leaf_id },
  });
  assert.equal(switched.body.active_leaf_id, before.active_leaf_id);
});
