// Chat replies as users and their clients experience them: persisted as they stream,
// surviving disconnects, stoppable, resumable, idempotent, titled, and readable by the AI SDK.
import assert from "node:assert/strict";
import {
  parseJsonEventStream,
  readUIMessageStream,
  type UIMessage,
  uiMessageChunkSchema,
} from "ai";
import {
  chatUser,
  type Chunk,
  GPT,
  marker,
  providerRequests,
  readSse,
  SONNET,
  textOf,
  until,
  withDb,
} from "../_support/chat.ts";

const words = (n: number, label: string) =>
  Array.from({ length: n }, (_, i) => `${label}${i}`).join(" ");

Deno.test("the user message is stored before the provider is called; the reply is saved as it streams, then finalized with usage and cost", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  const tag = marker("persist");
  const reply = words(40, "w"); // ~2 s: the first token is saved at once, then once a second
  const script = {
    ttft_ms: 800,
    tokens_per_sec: 20,
    text: reply,
    usage: {
      input_tokens: 1000,
      output_tokens: 200,
      cached_tokens: 300,
      cache_creation_tokens: 100,
    },
  };
  const response = alice.send(conversationId, {
    content: `${tag} [[fake ${JSON.stringify(script)}]]`,
  });

  await withDb(async (sql) => {
    // Before the first token: the user message and a pending assistant message exist, and the
    // provider has the request.
    const [userMsg] = await until(
      "the user message",
      () =>
        sql`select id, created_at from public.messages where conversation_id = ${conversationId} and role = 'user'`
          .then((r) => r.length ? r : null),
    );
    const [call] = await until(
      "the provider call",
      () => providerRequests("anthropic", tag).then((r) => r.length ? r : null),
    );
    assert.ok(
      new Date(call.at) >= new Date(userMsg.created_at),
      "provider called before the user message was stored",
    );
    const [pending] = await sql`select status from public.messages where parent_id = ${userMsg.id}`;
    assert.equal(pending.status, "pending");

    // While streaming: partial text is saved, at a bounded rate.
    const seen = new Set<string>();
    let final;
    while (!final) {
      const [m] =
        await sql`select status, content from public.messages where parent_id = ${userMsg.id}`;
      if (m.status === "streaming") seen.add(m.content);
      if (m.status === "complete") final = m;
      await new Promise((r) => setTimeout(r, 40));
    }
    assert.ok(seen.size >= 2, `expected partial snapshots while streaming, saw ${seen.size}`);
    assert.ok(
      seen.size <= 8,
      `the reply was saved ${seen.size} times in ~2 s: the write rate is not bounded`,
    );
    for (const partial of seen) {
      assert.ok(reply.startsWith(partial), "a saved partial is not a prefix of the reply");
    }
  });
  const chunks = await readSse(await response) as Chunk[];
  assert.equal(textOf(chunks), reply);

  await withDb(async (sql) => {
    const [m] =
      await sql`select * from public.messages where conversation_id = ${conversationId} and role = 'assistant'`;
    assert.equal(m.status, "complete");
    assert.equal(m.content, reply);
    assert.deepEqual(m.parts, [{ type: "step_start" }, { type: "text", text: reply }]);
    assert.equal(m.model, "claude-sonnet-4.6");
    assert.equal(m.provider_model, SONNET);
    assert.deepEqual(
      [m.input_tokens, m.output_tokens, m.cached_read_tokens, m.cache_write_tokens],
      [1000, 200, 300, 100],
    );
    // Sonnet 4.5: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million tokens.
    assert.equal(Number(m.cost_micro_usd), 1000 * 3 + 200 * 15 + 300 * 0.3 + 100 * 3.75);
    assert.ok(m.latency_ms >= 800 && m.ttft_ms >= 800 && m.ttft_ms <= m.latency_ms);

    const [c] = await sql`select * from public.conversations where id = ${conversationId}`;
    const [sum] =
      await sql`select sum(input_tokens)::int as i, sum(output_tokens)::int as o, sum(cost_micro_usd)::int as cost
                            from public.usage_ledger where conversation_id = ${conversationId}`;
    assert.deepEqual([Number(c.input_tokens), Number(c.output_tokens), Number(c.cost_micro_usd)], [
      sum.i,
      sum.o,
      sum.cost,
    ]);
    assert.ok(c.last_message_at >= m.completed_at);
    assert.equal(c.active_leaf_id, m.id);
  });
});

Deno.test("an Anthropic and an OpenAI model stream through the same code, in both stream formats", async () => {
  const alice = await chatUser("alice");
  for (const [model, providerModel] of [["claude-sonnet-4.6", SONNET], ["gpt-5.2", GPT]]) {
    const conversationId = await alice.createConversation({ title: "x", model });
    const ui = await readSse(
      await alice.send(conversationId, { content: `hello ${model}` }),
    ) as Chunk[];
    assert.equal(ui.at(-1), "[DONE]");
    assert.equal(ui[0].type, "start");
    assert.match(textOf(ui), new RegExp(`Reply from ${providerModel}: hello`));
    assert.equal(ui.at(-2)?.type, "finish");

    const simple = await readSse(
      await alice.send(conversationId, { content: "again please" }, "?stream=simple"),
    ) as Chunk[];
    const text = simple.filter((c) => c.type === "token").map((c) => c.content).join("");
    assert.match(text, /again please/);
    const done = simple.at(-1)!;
    assert.equal(done.type, "done");
    const stored = await alice.api(`/conversations/${conversationId}`);
    assert.equal(done.message_id, stored.body.active_leaf_id);
    assert.equal(
      stored.body.messages.at(-1).provider,
      model.startsWith("gpt") ? "openai" : "anthropic",
    );
  }
});

Deno.test("closing the client connection does not stop the reply: it completes and is saved", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  const reply = words(30, "d");
  const res = await alice.send(conversationId, {
    content: `bye [[fake {"tokens_per_sec": 40, "text": "${reply}"}]]`,
  });
  const reader = res.body!.getReader();
  await reader.read(); // the first chunk, then the user closes the tab
  await reader.cancel();
  const message = await withDb((sql) =>
    until(
      "the reply to complete",
      () =>
        sql`select status, content from public.messages where conversation_id = ${conversationId}
          and role = 'assistant' and status <> 'pending' and status <> 'streaming'`.then((r) =>
          r[0]
        ),
    )
  );
  assert.equal(message.status, "complete");
  assert.equal(message.content, reply);
});

Deno.test("stop from another connection aborts the reply, keeps the partial text and meters it", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  const reply = words(200, "s");
  const res = await alice.send(conversationId, {
    content: `long one [[fake {"tokens_per_sec": 20, "text": "${reply}"}]]`,
  });
  const streamed = readSse(res);
  const messageId = await withDb((sql) =>
    until(
      "some streamed text",
      () =>
        sql`select id from public.messages where conversation_id = ${conversationId} and role = 'assistant'
          and length(content) > 10`.then((r) => r[0]?.id),
    )
  );

  const stopped = await alice.api(`/conversations/${conversationId}/messages/${messageId}/stop`, {
    method: "POST",
  });
  assert.equal(stopped.status, 200);
  assert.equal(stopped.body.status, "aborted");
  assert.ok(stopped.body.content.length > 0 && reply.startsWith(stopped.body.content));
  assert.ok(stopped.body.content.length < reply.length);

  const chunks = await streamed as Chunk[];
  assert.equal(chunks.at(-2)?.type, "abort");
  await withDb(async (sql) => {
    const rows =
      await sql`select status, output_tokens from public.usage_ledger where message_id = ${messageId}`;
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, "aborted");
    assert.ok(rows[0].output_tokens > 0, "the partial reply was not metered");
    const [m] = await sql`select output_tokens from public.messages where id = ${messageId}`;
    assert.equal(m.output_tokens, rows[0].output_tokens);
  });
  // Stopping a finished reply changes nothing.
  const again = await alice.api(`/conversations/${conversationId}/messages/${messageId}/stop`, {
    method: "POST",
  });
  assert.equal(again.body.status, "aborted");
});

Deno.test("resume: a running reply replays its text so far and follows to the end; a finished one replays whole", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  const reply = words(40, "r");
  const original = readSse(
    await alice.send(conversationId, {
      content: `resume me [[fake {"tokens_per_sec": 40, "text": "${reply}"}]]`,
    }),
  );
  const messageId = await withDb((sql) =>
    until(
      "a partly saved reply",
      () =>
        sql`select id from public.messages where conversation_id = ${conversationId} and role = 'assistant'
          and status = 'streaming' and length(content) > 0`.then((r) => r[0]?.id),
    )
  );

  const resumed = await alice.api(`/conversations/${conversationId}/messages/${messageId}/stream`);
  assert.equal(resumed.status, 200);
  const chunks = await readSse(new Response(resumed.text)) as Chunk[];
  assert.equal(textOf(chunks), reply);
  assert.equal(chunks.at(-2)?.type, "finish");
  await original;

  const whole = await readSse(
    new Response(
      (await alice.api(
        `/conversations/${conversationId}/messages/${messageId}/stream?stream=simple`,
      )).text,
    ),
  ) as Chunk[];
  assert.equal(whole.filter((c) => c.type === "token").map((c) => c.content).join(""), reply);
  assert.equal(whole.at(-1)!.type, "done");
});

Deno.test("the same client_message_id twice gives one user message, one reply and one provider call", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation();
  const tag = marker("idem");
  const body = { content: `only once ${tag}`, client_message_id: `client-${tag}` };
  const first = await readSse(await alice.send(conversationId, body)) as Chunk[];
  const second = await readSse(await alice.send(conversationId, body)) as Chunk[];
  assert.equal(textOf(second), textOf(first));
  assert.equal(second[0].messageId, first[0].messageId);
  assert.equal((await providerRequests("anthropic", tag)).length, 1);
  await withDb(async (sql) => {
    const rows =
      await sql`select role from public.messages where conversation_id = ${conversationId}`;
    assert.deepEqual(rows.map((r) => r.role).sort(), ["assistant", "user"]);
  });
});

Deno.test("the first exchange gets a title from the utility model, metered, pushed in the stream and stored", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation({});
  const tag = marker("title");
  const ui = await readSse(
    await alice.send(conversationId, { content: `Plan a trip to Lisbon ${tag}` }),
  ) as Chunk[];
  const titleChunk = ui.find((c) => c.type === "data-title");
  assert.ok(titleChunk, "no title chunk in the stream");
  const [titleCall] = await providerRequests("openai", tag);
  assert.equal(titleCall.model, "gpt-5-mini");
  const conversation = await alice.api(`/conversations/${conversationId}`);
  assert.equal(conversation.body.title, titleChunk.data.title);
  await withDb(async (sql) => {
    const rows = await sql`select product_step, model from public.usage_ledger
                           where conversation_id = ${conversationId} order by product_step`;
    assert.deepEqual(rows.map((r) => `${r.product_step}:${r.model}`), [
      "chat:claude-sonnet-4.6",
      "title:gpt-5-mini",
    ]);
  });
  // Later exchanges keep the title.
  const second = await readSse(
    await alice.send(conversationId, { content: "and then?" }),
  ) as Chunk[];
  assert.equal(second.find((c) => c.type === "data-title"), undefined);
});

Deno.test("the ai package's own UI message stream reader rebuilds the stored message", async () => {
  const alice = await chatUser("alice");
  const conversationId = await alice.createConversation({ title: "x", model: "gpt-5.2" });
  const script = { reasoning: "Let me think.", text: "The answer is 42." };
  const res = await alice.send(conversationId, {
    id: conversationId,
    trigger: "submit-message",
    messages: [{
      id: `ui-${marker()}`,
      role: "user",
      parts: [{ type: "text", text: `Question? [[fake ${JSON.stringify(script)}]]` }],
    }],
  });
  assert.equal(res.headers.get("x-vercel-ai-ui-message-stream"), "v1");
  const chunks = parseJsonEventStream({ stream: res.body!, schema: uiMessageChunkSchema });
  const uiChunks = chunks.pipeThrough(
    new TransformStream({
      transform(part, controller) {
        if (!part.success) throw part.error; // every chunk must match the pinned ai's schema
        controller.enqueue(part.value);
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream: uiChunks })) message = m;
  assert.ok(message);

  const stored = (await alice.api(`/conversations/${conversationId}`)).body.messages.at(-1);
  assert.deepEqual(stored.parts, [
    { type: "step_start" },
    { type: "reasoning", text: "Let me think." },
    { type: "text", text: "The answer is 42." },
  ]);
  assert.equal(message.id, stored.id);
  // The client's parts are the stored ones (the AI SDK spells step-start with a hyphen).
  assert.deepEqual(
    message.parts.filter((p) => ["step-start", "text", "reasoning"].includes(p.type))
      .map((p) =>
        p.type === "step-start"
          ? { type: "step_start" }
          : { type: p.type, text: (p as { text: string }).text }
      ),
    stored.parts,
  );
});
