/**
 * The UI message stream encoder, checked with the pinned `ai` package's own client code: its
 * chunk schema, the HTTP transport `useChat` uses, and `readUIMessageStream`.
 */
import assert from "node:assert/strict";
import {
  DefaultChatTransport,
  parseJsonEventStream,
  readUIMessageStream,
  UI_MESSAGE_STREAM_HEADERS,
  type UIMessage,
  type UIMessageChunk,
  uiMessageChunkSchema,
} from "ai";
import type { ChatStreamEvent } from "../../supabase/functions/_shared/stream/events.ts";
import {
  encodeUiMessageStream,
  UI_STREAM_HEADERS,
} from "../../supabase/functions/_shared/stream/ui_message_stream.ts";
import { frames, fromArray, payloads, readText, test } from "./helpers.ts";

const CITATION = {
  documentId: "doc-1",
  chunkIndex: 3,
  title: "Q3 plan",
  snippet: "Revenue grew 12%.",
};

/** One reply with every kind of event. */
const FULL: ChatStreamEvent[] = [
  { type: "start", messageId: "msg-1", conversationId: "conv-1" },
  { type: "step-start" },
  { type: "reasoning-delta", id: "r1", delta: "Let me " },
  { type: "reasoning-delta", id: "r1", delta: "look it up." },
  { type: "reasoning-end", id: "r1" },
  { type: "text-delta", id: "t1", delta: "Checking " },
  { type: "text-delta", id: "t1", delta: "the docs." },
  { type: "text-end", id: "t1" },
  { type: "tool-input-start", toolCallId: "call-1", toolName: "search_knowledge" },
  { type: "tool-input-delta", toolCallId: "call-1", delta: '{"query":' },
  { type: "tool-input-delta", toolCallId: "call-1", delta: '"Q3 revenue"}' },
  {
    type: "tool-input-available",
    toolCallId: "call-1",
    toolName: "search_knowledge",
    input: { query: "Q3 revenue" },
  },
  { type: "tool-output-available", toolCallId: "call-1", output: { results: 1 } },
  { type: "citation", citation: CITATION },
  { type: "step-finish" },
  { type: "step-start" },
  { type: "text-delta", id: "t2", delta: "Revenue grew " },
  { type: "text-delta", id: "t2", delta: "12%." },
  { type: "text-end", id: "t2" },
  { type: "step-finish" },
  { type: "title", title: "Q3 revenue" },
  { type: "notice", code: "model_downgraded", message: "Switched to a cheaper model." },
  { type: "finish", messageId: "msg-1", finishReason: "stop", metadata: { model: "m" } },
];

/** The exact chunks FULL becomes. */
const FULL_CHUNKS: UIMessageChunk[] = [
  { type: "start", messageId: "msg-1", messageMetadata: { conversationId: "conv-1" } },
  { type: "start-step" },
  { type: "reasoning-start", id: "r1" },
  { type: "reasoning-delta", id: "r1", delta: "Let me " },
  { type: "reasoning-delta", id: "r1", delta: "look it up." },
  { type: "reasoning-end", id: "r1" },
  { type: "text-start", id: "t1" },
  { type: "text-delta", id: "t1", delta: "Checking " },
  { type: "text-delta", id: "t1", delta: "the docs." },
  { type: "text-end", id: "t1" },
  { type: "tool-input-start", toolCallId: "call-1", toolName: "search_knowledge" },
  { type: "tool-input-delta", toolCallId: "call-1", inputTextDelta: '{"query":' },
  { type: "tool-input-delta", toolCallId: "call-1", inputTextDelta: '"Q3 revenue"}' },
  {
    type: "tool-input-available",
    toolCallId: "call-1",
    toolName: "search_knowledge",
    input: { query: "Q3 revenue" },
  },
  { type: "tool-output-available", toolCallId: "call-1", output: { results: 1 } },
  {
    type: "source-document",
    sourceId: "doc-1#3",
    mediaType: "text/plain",
    title: "Q3 plan",
    providerMetadata: {
      aide: { documentId: "doc-1", chunkIndex: 3, snippet: "Revenue grew 12%." },
    },
  },
  { type: "finish-step" },
  { type: "start-step" },
  { type: "text-start", id: "t2" },
  { type: "text-delta", id: "t2", delta: "Revenue grew " },
  { type: "text-delta", id: "t2", delta: "12%." },
  { type: "text-end", id: "t2" },
  { type: "finish-step" },
  { type: "data-title", id: "title", data: { title: "Q3 revenue" } },
  {
    type: "data-notice",
    data: { code: "model_downgraded", message: "Switched to a cheaper model." },
  },
  { type: "finish", finishReason: "stop", messageMetadata: { model: "m" } },
];

/**
 * The fields ai@7.0.173's uiMessageChunkSchema declares for each chunk type we emit. Its
 * objects are loose (extra fields pass validation), so this is how "no extra fields" is
 * checked; `deno check` enforces the same through the UIMessageChunk type.
 */
const DECLARED: Record<string, string[]> = {
  "start": ["messageId", "messageMetadata"],
  "start-step": [],
  "finish-step": [],
  "text-start": ["id", "providerMetadata"],
  "text-delta": ["id", "delta", "providerMetadata"],
  "text-end": ["id", "citations", "providerMetadata"],
  "reasoning-start": ["id", "providerMetadata"],
  "reasoning-delta": ["id", "delta", "providerMetadata"],
  "reasoning-end": ["id", "providerMetadata"],
  "tool-input-start": [
    "toolCallId",
    "toolName",
    "inputEncoding",
    "providerExecuted",
    "providerMetadata",
    "toolMetadata",
    "dynamic",
    "title",
  ],
  "tool-input-delta": ["toolCallId", "inputTextDelta"],
  "tool-input-available": [
    "toolCallId",
    "toolName",
    "input",
    "providerExecuted",
    "providerMetadata",
    "toolMetadata",
    "dynamic",
    "title",
  ],
  "tool-output-available": [
    "toolCallId",
    "output",
    "providerExecuted",
    "providerMetadata",
    "toolMetadata",
    "dynamic",
    "preliminary",
  ],
  "tool-output-error": [
    "toolCallId",
    "errorText",
    "providerExecuted",
    "providerMetadata",
    "toolMetadata",
    "dynamic",
  ],
  "source-url": ["sourceId", "url", "title", "providerMetadata"],
  "source-document": ["sourceId", "mediaType", "title", "filename", "providerMetadata"],
  "data-title": ["id", "data", "transient"],
  "data-notice": ["id", "data", "transient"],
  "finish": ["finishReason", "messageMetadata"],
  "error": ["errorText"],
  "abort": ["reason"],
};

/** Parses an SSE body exactly as DefaultChatTransport does, failing on any invalid chunk. */
async function parseWithPackage(body: string): Promise<UIMessageChunk[]> {
  const chunks: UIMessageChunk[] = [];
  const parsed = parseJsonEventStream({
    stream: new Response(body).body!,
    schema: uiMessageChunkSchema,
  });
  for await (const result of parsed) {
    if (!result.success) throw result.error;
    chunks.push(result.value);
  }
  return chunks;
}

function assertOnlyDeclaredFields(chunks: UIMessageChunk[]) {
  for (const chunk of chunks) {
    const declared = DECLARED[chunk.type];
    assert.ok(declared, `unexpected chunk type ${chunk.type}`);
    for (const key of Object.keys(chunk)) {
      assert.ok(key === "type" || declared.includes(key), `${chunk.type} has undeclared ${key}`);
    }
  }
}

/** The client side of useChat: its transport over a fetch answered by our encoder. */
async function clientRead(events: ChatStreamEvent[], options: { terminateOnError?: boolean } = {}) {
  const transport = new DefaultChatTransport({
    api: "http://aide.test/chat",
    fetch: () =>
      Promise.resolve(
        new Response(encodeUiMessageStream(fromArray(events)), { headers: UI_STREAM_HEADERS }),
      ),
  });
  const chunks = await transport.sendMessages({
    trigger: "submit-message",
    chatId: "conv-1",
    messageId: undefined,
    messages: [],
    abortSignal: undefined,
  });
  const errors: unknown[] = [];
  let last: UIMessage | undefined;
  for await (
    const message of readUIMessageStream({
      stream: chunks,
      onError: (e) => errors.push(e),
      terminateOnError: options.terminateOnError,
    })
  ) last = message;
  // A JSON round trip drops the undefined fields the package leaves on parts.
  return { message: JSON.parse(JSON.stringify(last)), errors };
}

test("ui stream: headers are the package's UI_MESSAGE_STREAM_HEADERS", () => {
  assert.deepEqual({ ...UI_STREAM_HEADERS }, { ...UI_MESSAGE_STREAM_HEADERS });
});

test("ui stream: a full reply is exact chunks, each valid in the pinned schema", async () => {
  const body = await readText(encodeUiMessageStream(fromArray(FULL)));
  const all = frames(body);
  assert.ok(all.every((f) => f.startsWith("data: ")), "only data messages");
  assert.equal(all.at(-1), "data: [DONE]\n\n");
  assert.equal(all.filter((f) => f === "data: [DONE]\n\n").length, 1);

  assert.deepEqual(payloads(body), FULL_CHUNKS);
  const parsed = await parseWithPackage(body);
  assert.deepEqual(parsed, FULL_CHUNKS);
  assertOnlyDeclaredFields(parsed);
});

test("ui stream: useChat's transport rebuilds the expected message", async () => {
  const { message, errors } = await clientRead(FULL);
  assert.deepEqual(errors, []);
  assert.deepEqual(message, {
    id: "msg-1",
    role: "assistant",
    metadata: { conversationId: "conv-1", model: "m" },
    parts: [
      { type: "step-start" },
      { type: "reasoning", id: "r1", text: "Let me look it up.", state: "done" },
      { type: "text", text: "Checking the docs.", state: "done" },
      {
        type: "tool-search_knowledge",
        toolCallId: "call-1",
        state: "output-available",
        input: { query: "Q3 revenue" },
        output: { results: 1 },
      },
      {
        type: "source-document",
        sourceId: "doc-1#3",
        mediaType: "text/plain",
        title: "Q3 plan",
        providerMetadata: {
          aide: { documentId: "doc-1", chunkIndex: 3, snippet: "Revenue grew 12%." },
        },
      },
      { type: "step-start" },
      { type: "text", text: "Revenue grew 12%.", state: "done" },
      { type: "data-title", id: "title", data: { title: "Q3 revenue" } },
      {
        type: "data-notice",
        data: { code: "model_downgraded", message: "Switched to a cheaper model." },
      },
    ],
  });
});

test("ui stream: an error closes open parts; the client reports errorText", async () => {
  const events: ChatStreamEvent[] = [
    { type: "start", messageId: "msg-2", conversationId: "conv-1" },
    { type: "reasoning-delta", id: "r1", delta: "Hmm" },
    { type: "text-delta", id: "t1", delta: "Partial" },
    { type: "error", code: "upstream_error", message: "The model provider failed." },
  ];
  const body = await readText(encodeUiMessageStream(fromArray(events)));
  const chunks = await parseWithPackage(body);
  assert.deepEqual(chunks.slice(-3), [
    { type: "reasoning-end", id: "r1" },
    { type: "text-end", id: "t1" },
    { type: "error", errorText: "The model provider failed." },
  ]);
  assert.ok(body.endsWith("data: [DONE]\n\n"));

  // The package hands the error to onError as an Error(errorText) and still ends the stream
  // normally, with the partial parts marked done.
  const { message, errors } = await clientRead(events);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof Error);
  assert.equal(errors[0].message, "The model provider failed.");
  assert.deepEqual(message.parts, [
    { type: "reasoning", id: "r1", text: "Hmm", state: "done" },
    { type: "text", text: "Partial", state: "done" },
  ]);

  // With terminateOnError the package rejects the iteration with that Error instead.
  await assert.rejects(clientRead(events, { terminateOnError: true }), {
    message: "The model provider failed.",
  });
});

test("ui stream: abort closes open parts and carries the reason", async () => {
  const events: ChatStreamEvent[] = [
    { type: "start", messageId: "msg-3", conversationId: "conv-1" },
    { type: "text-delta", id: "t1", delta: "Stopped here" },
    { type: "abort", reason: "stopped by user" },
  ];
  const chunks = await parseWithPackage(await readText(encodeUiMessageStream(fromArray(events))));
  assert.deepEqual(chunks.slice(-2), [
    { type: "text-end", id: "t1" },
    { type: "abort", reason: "stopped by user" },
  ]);
  assertOnlyDeclaredFields(chunks);

  const bare = await parseWithPackage(
    await readText(encodeUiMessageStream(fromArray([{ type: "abort" }]))),
  );
  assert.deepEqual(bare, [{ type: "abort" }]);

  // No error for the client: an abort is not a failure.
  const { message, errors } = await clientRead(events);
  assert.deepEqual(errors, []);
  assert.deepEqual(message.parts, [{ type: "text", text: "Stopped here", state: "done" }]);
});

test("ui stream: a source that ends early or throws still leaves the client consistent", async () => {
  const ended = await parseWithPackage(
    await readText(
      encodeUiMessageStream(fromArray([{ type: "text-delta", id: "t1", delta: "a" }])),
    ),
  );
  assert.deepEqual(ended, [
    { type: "text-start", id: "t1" },
    { type: "text-delta", id: "t1", delta: "a" },
    { type: "text-end", id: "t1" },
  ]);

  const failures: unknown[] = [];
  async function* failing(): AsyncGenerator<ChatStreamEvent> {
    yield { type: "text-delta", id: "t1", delta: "a" };
    throw new Error("secret internals");
  }
  const body = await readText(
    encodeUiMessageStream(failing(), { onError: (e) => failures.push(e) }),
  );
  assert.deepEqual((await parseWithPackage(body)).slice(-2), [
    { type: "text-end", id: "t1" },
    { type: "error", errorText: "Internal error" },
  ]);
  assert.ok(body.endsWith("data: [DONE]\n\n"));
  assert.ok(!body.includes("secret"));
  assert.equal((failures[0] as Error).message, "secret internals");
});

test("ui stream: chunks the client would reject are dropped", async () => {
  const chunks = await parseWithPackage(
    await readText(
      encodeUiMessageStream(fromArray([
        { type: "text-end", id: "never-opened" },
        { type: "reasoning-end", id: "never-opened" },
        { type: "tool-input-delta", toolCallId: "unknown", delta: "{" },
        { type: "tool-output-available", toolCallId: "unknown", output: 1 },
        { type: "tool-output-error", toolCallId: "unknown", errorText: "x" },
        { type: "text-delta", id: "t1", delta: "ok" },
        { type: "text-end", id: "t1" },
        { type: "text-end", id: "t1" },
        { type: "finish", messageId: "m", finishReason: "stop" },
      ])),
    ),
  );
  assert.deepEqual(chunks, [
    { type: "text-start", id: "t1" },
    { type: "text-delta", id: "t1", delta: "ok" },
    { type: "text-end", id: "t1" },
    { type: "finish", finishReason: "stop" },
  ]);
});

test("ui stream: tool errors, url citations, repeated citations and titles", async () => {
  const events: ChatStreamEvent[] = [
    { type: "start", messageId: "msg-4", conversationId: "conv-1" },
    {
      type: "tool-input-available",
      toolCallId: "call-1",
      toolName: "get_document",
      input: { id: "doc-9" },
    },
    { type: "tool-output-error", toolCallId: "call-1", errorText: "Document not found" },
    { type: "citation", citation: { ...CITATION, url: "https://example.com/q3" } },
    { type: "citation", citation: { ...CITATION, url: "https://example.com/q3" } },
    { type: "title", title: "First title" },
    { type: "title", title: "Better title" },
    { type: "finish", messageId: "msg-4", finishReason: "other" },
  ];
  const chunks = await parseWithPackage(await readText(encodeUiMessageStream(fromArray(events))));
  assertOnlyDeclaredFields(chunks);
  assert.deepEqual(chunks.filter((c) => c.type === "source-url"), [{
    type: "source-url",
    sourceId: "doc-1#3",
    url: "https://example.com/q3",
    title: "Q3 plan",
    providerMetadata: {
      aide: { documentId: "doc-1", chunkIndex: 3, snippet: "Revenue grew 12%." },
    },
  }]);

  const { message } = await clientRead(events);
  assert.deepEqual(message.parts.map((p: { type: string }) => p.type), [
    "tool-get_document",
    "source-url",
    "data-title",
  ]);
  assert.equal(message.parts[0].state, "output-error");
  assert.equal(message.parts[0].errorText, "Document not found");
  // The fixed part id makes the newer title replace the older one.
  assert.deepEqual(message.parts[2].data, { title: "Better title" });
});

test("ui stream: nothing after a terminal event is read or sent", async () => {
  let finalized = false;
  let readAfterFinish = false;
  async function* source(): AsyncGenerator<ChatStreamEvent> {
    try {
      yield { type: "finish", messageId: "m", finishReason: "stop" };
      readAfterFinish = true;
      yield { type: "text-delta", id: "t1", delta: "late" };
    } finally {
      finalized = true;
    }
  }
  const chunks = await parseWithPackage(await readText(encodeUiMessageStream(source())));
  assert.deepEqual(chunks, [{ type: "finish", finishReason: "stop" }]);
  assert.equal(readAfterFinish, false);
  assert.equal(finalized, true, "return() was called on the source");
});
