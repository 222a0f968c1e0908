// The useChat transport against the live stack, driven as useChat drives it: sendMessages
// with an abort signal (useChat's stop()), reconnectToStream after a "reload", regenerate.
import assert from "node:assert/strict";
import { fakeReply } from "../_support/chat.ts";
import type { UIMessageChunk } from "ai";
import type { AideUIMessage } from "../../packages/client/src/index.ts";
import { userClient } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const userMessage = (text: string): AideUIMessage => ({
  id: crypto.randomUUID(),
  role: "user",
  parts: [{ type: "text", text }],
});

async function readChunks(
  stream: ReadableStream<UIMessageChunk>,
  until?: (c: UIMessageChunk) => boolean,
) {
  const chunks: UIMessageChunk[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    if (until?.(value)) {
      await reader.cancel();
      break;
    }
  }
  return chunks;
}

const textOf = (chunks: UIMessageChunk[]) =>
  chunks.map((c) => (c.type === "text-delta" ? c.delta : "")).join("");

Deno.test("chatTransport: streams a reply; aborting (useChat stop) stops it on the server", async () => {
  const { aide } = await userClient();
  const { id } = await aide.conversations.create() as Any;
  const transport = aide.chatTransport(id);

  const done = await readChunks(
    await transport.sendMessages({
      chatId: id,
      messages: [userMessage(`Hi ${fakeReply("hello from Aide")}`)],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
    }),
  );
  assert.equal(done[0].type, "start");
  assert.equal(textOf(done), "hello from Aide");

  const long = Array.from({ length: 300 }, (_, i) => `w${i}`).join(" ");
  const abort = new AbortController();
  const partial = await readChunks(
    await transport.sendMessages({
      chatId: id,
      messages: [userMessage(`More ${fakeReply(long, 40)}`)],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: abort.signal,
    }),
    (c) => c.type === "text-delta",
  );
  const replyId = (partial[0] as Extract<UIMessageChunk, { type: "start" }>)
    .messageId!;
  abort.abort();
  const stopped = await waitFor(async () => {
    const c = await aide.conversations.get(id) as Any;
    const m = c.messages.find((m: Any) => m.id === replyId);
    return m.status === "aborted" ? m : null;
  });
  assert.ok(
    stopped.content.length < long.length,
    "stopped part-way, partial text kept",
  );
});

Deno.test("chatTransport: reconnectToStream resumes a running reply, null when none runs", async () => {
  const { aide } = await userClient();
  const { id } = await aide.conversations.create() as Any;
  assert.equal(
    await aide.chatTransport(id).reconnectToStream({ chatId: id }),
    null,
  );

  const text = Array.from({ length: 50 }, (_, i) => `r${i}`).join(" ");
  const first = aide.chatTransport(id);
  await readChunks(
    await first.sendMessages({
      chatId: id,
      messages: [userMessage(`Go ${fakeReply(text, 50)}`)],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
    }),
    (c) => c.type === "text-delta",
  ); // the page reloads mid-reply: a new transport, as a new page would make
  const resumed = await aide.chatTransport(id).reconnectToStream({
    chatId: id,
  });
  assert.ok(resumed, "a running reply is found");
  const chunks = await readChunks(resumed);
  assert.equal(
    textOf(chunks),
    text,
    "replayed from the start, then followed to the end",
  );
  assert.equal(chunks.at(-1)!.type, "finish");
});

Deno.test("chatTransport: regenerate-message makes a sibling reply; body.parent_id edits", async () => {
  const { aide } = await userClient();
  const { id } = await aide.conversations.create() as Any;
  const reply = await aide.streamSimple(id, { content: `Q ${fakeReply("A1")}` })
    .text();
  const transport = aide.chatTransport(id);
  const regenerated = await readChunks(
    await transport.sendMessages({
      chatId: id,
      messages: [],
      trigger: "regenerate-message",
      messageId: reply.messageId!,
      abortSignal: undefined,
    }),
  );
  const newId = (regenerated[0] as Any).messageId;
  assert.notEqual(newId, reply.messageId);

  const edited = await readChunks(
    await transport.sendMessages({
      chatId: id,
      messages: [userMessage(`Q edited ${fakeReply("A2")}`)],
      trigger: "submit-message",
      messageId: undefined,
      body: { parent_id: null },
      abortSignal: undefined,
    }),
  );
  assert.equal(textOf(edited), "A2");
  const conversation = await aide.conversations.get(id) as Any;
  assert.equal(
    conversation.messages.length,
    2,
    "the edited branch: new question and its answer",
  );
  assert.equal(conversation.messages[0].parent_id, null);
  assert.match(conversation.messages[0].content, /^Q edited/);
});

async function waitFor<T>(
  check: () => Promise<T | null>,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out");
}
