/** Keep-alive pings and cancellation, shared by both encoders. */
import assert from "node:assert/strict";
import { parseJsonEventStream, uiMessageChunkSchema } from "ai";
import type { ChatStreamEvent } from "../../supabase/functions/_shared/stream/events.ts";
import { encodeSimpleStream } from "../../supabase/functions/_shared/stream/simple.ts";
import { SSE_PING, type SseStreamOptions } from "../../supabase/functions/_shared/stream/sse.ts";
import { encodeUiMessageStream } from "../../supabase/functions/_shared/stream/ui_message_stream.ts";
import { frames, manualSource, readText, test, tick } from "./helpers.ts";

const START: ChatStreamEvent = { type: "start", messageId: "m", conversationId: "c" };
const FINISH: ChatStreamEvent = { type: "finish", messageId: "m", finishReason: "stop" };

const encoders: [
  string,
  (s: AsyncIterable<ChatStreamEvent>, o?: SseStreamOptions) => ReadableStream<Uint8Array>,
][] = [["ui", encodeUiMessageStream], ["simple", encodeSimpleStream]];

test("sse: pings while the source is idle, none once the stream has ended", async () => {
  const { source, push } = manualSource();
  const body = readText(encodeUiMessageStream(source, { keepAliveMs: 5 }));
  push(START);
  await tick(40);
  push(FINISH);
  const all = frames(await body);
  assert.ok(all[0].startsWith('data: {"type":"start"'));
  assert.ok(all.slice(1, -2).length >= 1, "at least one ping while idle");
  assert.ok(all.slice(1, -2).every((f) => f === SSE_PING));
  assert.deepEqual(all.slice(-2), [
    'data: {"type":"finish","finishReason":"stop"}\n\n',
    "data: [DONE]\n\n",
  ]);

  // The AI SDK's parser skips the comments.
  const parsed = [];
  const stream = parseJsonEventStream({
    stream: new Response(all.join("")).body!,
    schema: uiMessageChunkSchema,
  });
  for await (const r of stream) parsed.push(r.success ? r.value.type : "invalid");
  assert.deepEqual(parsed, ["start", "finish"]);
  // Returning with the timer still armed would fail this test: Deno's op sanitizer.
});

test("sse: pings do not pile up while the client is not reading", async () => {
  const { source, push } = manualSource();
  const stream = encodeSimpleStream(source, { keepAliveMs: 5 });
  await tick(60); // nobody reads: at most one ping fits the queue
  push(FINISH);
  const all = frames(await readText(stream));
  assert.deepEqual(all, [SSE_PING, 'data: {"type":"done","message_id":"m","citations":[]}\n\n']);
});

test("sse: keepAliveMs 0 sends no pings", async () => {
  const { source, push } = manualSource();
  const body = readText(encodeSimpleStream(source, { keepAliveMs: 0 }));
  await tick(20);
  push(FINISH);
  assert.ok(!(await body).includes(SSE_PING));
});

for (const [name, encode] of encoders) {
  test(`sse (${name}): cancelling stops reading and calls the source's return()`, async () => {
    const { source, state, push } = manualSource();
    const reader = encode(source, { keepAliveMs: 5 }).getReader();
    push(START);
    push({ type: "text-delta", id: "t1", delta: "hi" });
    assert.equal((await reader.read()).done, false);
    await tick(15); // the encoder is waiting in next() with a ping timer armed
    await reader.cancel("client went away");
    assert.equal(state.returnCalls, 1);
    push({ type: "text-delta", id: "t1", delta: "more" }); // the source may go on: ignored
    await tick(15); // no ping after the cancel (enqueue would throw on a cancelled stream)
    assert.equal(state.returnCalls, 1);
  });
}

test("sse: cancel does not hang on a generator stuck in next()", async () => {
  let finalized = false;
  async function* stuck(): AsyncGenerator<ChatStreamEvent> {
    try {
      yield START;
      await new Promise(() => {}); // waits for a model that never answers
    } finally {
      finalized = true;
    }
  }
  const reader = encodeUiMessageStream(stuck(), { keepAliveMs: 5 }).getReader();
  await reader.read();
  await tick(1);
  await reader.cancel();
  // A generator queues return() behind the pending next(); the encoder must not wait for it.
  assert.equal(finalized, false);
});

test("sse: a failing return() or late rejection raises nothing unhandled", async () => {
  let rejectNext: (e: Error) => void = () => {};
  const source: AsyncIterable<ChatStreamEvent> = {
    [Symbol.asyncIterator]: () => ({
      next: () => new Promise((_, reject) => (rejectNext = reject)),
      return: () => Promise.reject(new Error("return failed")),
    }),
  };
  const reader = encodeUiMessageStream(source).getReader();
  const pending = reader.read();
  await tick(1);
  await reader.cancel();
  rejectNext(new Error("source failed after cancel"));
  assert.equal((await pending).done, true);
  await tick(5); // an unhandled rejection would fail the test here
});

test("sse: a client disconnect over HTTP reaches the source's return()", async () => {
  const { source, state, push } = manualSource();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response(encodeUiMessageStream(source, { keepAliveMs: 5 })),
  );
  const client = new AbortController();
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`, { signal: client.signal });
    push(START);
    const reader = res.body!.getReader();
    let received = ""; // pings may come first
    while (!received.includes('"start"')) {
      received += new TextDecoder().decode((await reader.read()).value);
    }
    client.abort();
    for (let i = 0; i < 100 && state.returnCalls === 0; i++) await tick(10);
    assert.equal(state.returnCalls, 1);
  } finally {
    client.abort(); // else a graceful shutdown waits for the still-open stream
    await server.shutdown();
  }
});
