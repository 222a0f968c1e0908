// useChat({resume: true}) with the AI SDK's own DefaultChatTransport, unchanged: it reconnects
// with GET {api}/{chatId}/stream, which replays the conversation's reply in progress and follows
// it to the end, or answers 204 (the transport's "nothing to resume") when nothing is streaming.
import assert from "node:assert/strict";
import { DefaultChatTransport, type UIMessageChunk } from "ai";
import { chatUser, marker, readSse, until, withDb } from "../_support/chat.ts";
import { call, FUNCTIONS_URL } from "../_support/stack.ts";

async function collect(stream: ReadableStream<UIMessageChunk>) {
  const chunks: UIMessageChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

Deno.test("the ai package's DefaultChatTransport resumes a conversation's reply by its chat id; 204 when none", async () => {
  const alice = await chatUser("resume");
  const conversationId = await alice.createConversation();
  const transport = new DefaultChatTransport({
    // As the README's useChat client sets it up.
    api: `${FUNCTIONS_URL}/conversations/${conversationId}/messages`,
    headers: { authorization: `Bearer ${alice.token}` },
  });
  assert.equal(await transport.reconnectToStream({ chatId: conversationId }), null);

  const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
  const tag = marker("resume");
  const live = await alice.send(conversationId, {
    content: `${tag} [[fake ${JSON.stringify({ ttft_ms: 300, tokens_per_sec: 30, text: words })}]]`,
  });
  const reply = await until(
    "the reply to stream",
    () =>
      withDb((sql) =>
        sql`select id from public.messages where conversation_id = ${conversationId}
          and role = 'assistant' and status = 'streaming'`.then((r) => r[0])
      ),
  );
  const resumed = await transport.reconnectToStream({ chatId: conversationId });
  assert.ok(resumed, "nothing to resume while the reply streams");
  const chunks = await collect(resumed);
  await readSse(live);
  assert.equal(chunks[0].type, "start");
  assert.equal((chunks[0] as { messageId?: string }).messageId, reply.id);
  assert.equal(chunks.at(-1)!.type, "finish");
  const text = chunks.filter((c) => c.type === "text-delta").map((c) =>
    (c as { delta: string }).delta
  )
    .join("");
  assert.equal(text, words);

  // Finished: nothing to resume. Another user's conversation: 404, not 204.
  assert.equal(await transport.reconnectToStream({ chatId: conversationId }), null);
  const bob = await chatUser("resume-other");
  const other = await call(
    `${FUNCTIONS_URL}/conversations/${conversationId}/messages/${conversationId}/stream`,
    {
      token: bob.token,
    },
  );
  assert.equal(other.status, 404);
});
