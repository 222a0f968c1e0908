// Knowledge in chat: @mentions put documents in context, the model's search_knowledge and
// get_document tools return real passages, and every passage used is cited.
import assert from "node:assert/strict";
import {
  chatUser,
  type Chunk,
  marker,
  providerRequests,
  queueScript,
  readSse,
  readyDocument,
  SONNET,
  withDb,
} from "../_support/chat.ts";

Deno.test("an @mention puts the document in the model's context and is cited on the message", async () => {
  const alice = await chatUser("alice");
  const fact = marker("fact");
  const docId = await readyDocument(alice, {
    kind: "transcript",
    title: "Board meeting",
    content: `Alice: the codename is ${fact}.`,
  });
  const conversationId = await alice.createConversation();
  const ask = marker("ask");
  const chunks = await readSse(
    await alice.send(conversationId, {
      content: `What is the codename in @[Board meeting](doc:${docId})? ${ask}`,
    }, "?stream=simple"),
  ) as Chunk[];

  const [request] = await providerRequests("anthropic", ask);
  assert.equal(request.model, SONNET);
  assert.equal(
    (await providerRequests("anthropic", fact)).length,
    1,
    "the document text did not reach the model",
  );
  const citation = chunks.find((c) => c.type === "citation");
  assert.equal(citation?.citation.documentId, docId);
  assert.deepEqual(chunks.at(-1)?.citations.map((c: { documentId: string }) => c.documentId), [
    docId,
  ]);

  const [message] = await withDb((sql) =>
    sql`select parts from public.messages where conversation_id = ${conversationId} and role = 'assistant'`
  );
  assert.deepEqual(
    message.parts.filter((p: { type: string }) => p.type === "citation").map((
      p: { document_id: string; title: string },
    ) => [p.document_id, p.title]),
    [[docId, "Board meeting"]],
  );
  // The user message keeps the mention, so a regenerated reply sees the document too.
  const [user] = await withDb((sql) =>
    sql`select parts from public.messages where conversation_id = ${conversationId} and role = 'user'`
  );
  assert.deepEqual(user.parts[1], { type: "file", document_id: docId, title: "Board meeting" });

  // Mentioning a document the user cannot read is refused before anything is stored.
  const bob = await chatUser("bob");
  const bobConversation = await bob.createConversation();
  const refused = await bob.api(`/conversations/${bobConversation}/messages`, {
    method: "POST",
    json: { content: "hi", mentions: [docId] },
  });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error.code, "unknown_document");
});

Deno.test("the model's search_knowledge and get_document calls return real chunks, cited on the message", async () => {
  const alice = await chatUser("alice");
  const topic = marker("topic");
  const docId = await readyDocument(alice, {
    title: "Pricing",
    content: `# Pricing\nThe ${topic} plan costs 42 euros.`,
  });
  const conversationId = await alice.createConversation();
  const ask = marker("q");
  await queueScript(
    "anthropic",
    { tool_calls: [{ name: "search_knowledge", arguments: { query: `${topic} plan` } }] },
    { contains: ask },
    1,
  );
  await queueScript(
    "anthropic",
    { tool_calls: [{ name: "get_document", arguments: { document_id: docId } }] },
    { contains: ask },
    1,
  );
  await queueScript("anthropic", { text: "It costs 42 euros." }, { contains: ask }, 1);
  const chunks = await readSse(
    await alice.send(conversationId, { content: `How much is it? ${ask}` }),
  ) as Chunk[];

  const sources = chunks.filter((c) => c.type === "source-document");
  assert.ok(sources.length >= 1, "no source chunk in the stream");
  const [message] = await withDb((sql) =>
    sql`select parts from public.messages where conversation_id = ${conversationId} and role = 'assistant'`
  );
  const citations = message.parts.filter((p: { type: string }) => p.type === "citation");
  assert.ok(citations.length >= 1);
  await withDb(async (sql) => {
    for (const c of citations) {
      const [chunk] =
        await sql`select content from public.search_index where document_id = ${c.document_id} and chunk_index = ${c.chunk_index}`;
      assert.ok(chunk, `citation ${c.document_id}#${c.chunk_index} points at no chunk`);
    }
  });
  const [search] = message.parts.filter((p: { type: string; name: string }) =>
    p.type === "tool_result" && p.name === "search_knowledge"
  );
  assert.equal(search.output[0].document_id, docId);
  assert.match(search.output[0].text, new RegExp(topic));
  const [read] = message.parts.filter((p: { type: string; name: string }) =>
    p.type === "tool_result" && p.name === "get_document"
  );
  assert.match(read.output.content, /42 euros/);
});
