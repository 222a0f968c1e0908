/** The simple SSE encoder (the OxyChat seed's events), checked line by line. */
import assert from "node:assert/strict";
import type { ChatStreamEvent } from "../../supabase/functions/_shared/stream/events.ts";
import {
  encodeSimpleStream,
  SIMPLE_STREAM_HEADERS,
} from "../../supabase/functions/_shared/stream/simple.ts";
import { fromArray, readText, test } from "./helpers.ts";

const A = { documentId: "doc-1", chunkIndex: 0, title: "Plan", snippet: "Ship in May." };
const B = {
  documentId: "doc-2",
  chunkIndex: 4,
  title: "Notes",
  snippet: "Budget approved.",
  url: "https://example.com/notes",
};

const body = (events: ChatStreamEvent[]) => readText(encodeSimpleStream(fromArray(events)));

test("simple stream: headers", () => {
  assert.equal(SIMPLE_STREAM_HEADERS["content-type"], "text/event-stream");
  assert.equal(SIMPLE_STREAM_HEADERS["cache-control"], "no-cache");
});

test("simple stream: tokens, citations, title and done, exactly", async () => {
  const text = await body([
    { type: "start", messageId: "msg-1", conversationId: "conv-1" },
    { type: "step-start" },
    { type: "reasoning-delta", id: "r1", delta: "thinking" },
    { type: "reasoning-end", id: "r1" },
    { type: "text-delta", id: "t1", delta: "Hello" },
    { type: "text-delta", id: "t1", delta: "" },
    { type: "text-delta", id: "t1", delta: " world" },
    { type: "text-end", id: "t1" },
    { type: "tool-input-start", toolCallId: "c1", toolName: "search_knowledge" },
    { type: "tool-input-delta", toolCallId: "c1", delta: "{}" },
    { type: "tool-input-available", toolCallId: "c1", toolName: "search_knowledge", input: {} },
    { type: "tool-output-available", toolCallId: "c1", output: [] },
    { type: "citation", citation: A },
    { type: "citation", citation: B },
    { type: "citation", citation: A },
    { type: "step-finish" },
    { type: "notice", code: "model_downgraded", message: "Using a cheaper model." },
    { type: "title", title: "Greetings" },
    { type: "finish", messageId: "msg-1", finishReason: "stop" },
  ]);
  assert.equal(
    text,
    [
      `data: {"type":"token","content":"Hello"}\n\n`,
      `data: {"type":"token","content":" world"}\n\n`,
      `data: {"type":"citation","citation":{"documentId":"doc-1","chunkIndex":0,"title":"Plan","snippet":"Ship in May."}}\n\n`,
      `data: {"type":"citation","citation":{"documentId":"doc-2","chunkIndex":4,"title":"Notes","snippet":"Budget approved.","url":"https://example.com/notes"}}\n\n`,
      `data: {"type":"notice","code":"model_downgraded","message":"Using a cheaper model."}\n\n`,
      `data: {"type":"title_update","title":"Greetings"}\n\n`,
      `data: {"type":"done","message_id":"msg-1","citations":[{"documentId":"doc-1","chunkIndex":0,"title":"Plan","snippet":"Ship in May."},{"documentId":"doc-2","chunkIndex":4,"title":"Notes","snippet":"Budget approved.","url":"https://example.com/notes"}]}\n\n`,
    ].join(""),
  );
});

test("simple stream: error with its code, and nothing after it", async () => {
  const text = await body([
    { type: "text-delta", id: "t1", delta: "Part" },
    { type: "error", code: "upstream_error", message: "The model provider failed." },
    { type: "finish", messageId: "msg-1", finishReason: "error" },
  ]);
  assert.equal(
    text,
    `data: {"type":"token","content":"Part"}\n\n` +
      `data: {"type":"error","error":"The model provider failed.","code":"upstream_error"}\n\n`,
  );
});

test("simple stream: abort is an error with code aborted", async () => {
  assert.equal(
    await body([{ type: "abort", reason: "Stopped by the user." }]),
    `data: {"type":"error","error":"Stopped by the user.","code":"aborted"}\n\n`,
  );
  assert.equal(
    await body([{ type: "abort" }]),
    `data: {"type":"error","error":"The reply was stopped.","code":"aborted"}\n\n`,
  );
});

test("simple stream: a throwing source ends with a generic internal error", async () => {
  async function* failing(): AsyncGenerator<ChatStreamEvent> {
    yield { type: "text-delta", id: "t1", delta: "a" };
    throw new Error("secret internals");
  }
  assert.equal(
    await readText(encodeSimpleStream(failing())),
    `data: {"type":"token","content":"a"}\n\n` +
      `data: {"type":"error","error":"Internal error","code":"internal"}\n\n`,
  );
});
