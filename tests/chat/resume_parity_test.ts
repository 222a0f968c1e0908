// Resuming a reply (GET .../stream) sends the very chunks the live stream sent: reasoning, tool
// calls and results, citations, the title data chunk and the finish reason (content-filter
// here), whether the reply is followed while it is generated or replayed once it is done.
// Deltas are compared merged: a replay sends each part's text in fewer, larger pieces.
import assert from "node:assert/strict";
import {
  chatUser,
  type Chunk,
  GPT,
  marker,
  queueScript,
  readSse,
  readyDocument,
} from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

/** Consecutive deltas of one part merged into one. */
function merged(chunks: Chunk[]): Chunk[] {
  const out: Chunk[] = [];
  for (const chunk of chunks) {
    const last = out.at(-1);
    const key = chunk.type === "tool-input-delta" ? "inputTextDelta" : "delta";
    const same = last !== undefined && last.type === chunk.type &&
      (chunk.type === "text-delta" || chunk.type === "reasoning-delta"
        ? last.id === chunk.id
        : chunk.type === "tool-input-delta" && last.toolCallId === chunk.toolCallId);
    if (same) last![key] += chunk[key];
    else out.push({ ...chunk });
  }
  return out;
}

/** Reads an SSE body frame by frame, calling `onChunk` as each arrives. */
async function readLive(res: Response, onChunk: (c: Chunk) => void): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of res.body!) {
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))
        .join("\n");
      if (!data) continue;
      const chunk = data === "[DONE]" ? data as unknown as Chunk : JSON.parse(data);
      chunks.push(chunk);
      onChunk(chunk);
    }
  }
  return chunks;
}

Deno.test("resuming a reply with tools, citations and a title replays the live chunks exactly", async () => {
  const alice = await chatUser("parity");
  const topic = marker("topic");
  const docId = await readyDocument(alice, {
    title: "Price list",
    content: `# ${topic}\n\nThe ${topic} plan costs 42 euros a month.`,
  });
  // No title yet: the first exchange writes one (a data-title chunk).
  const conversationId = await alice.createConversation({ model: "gpt-5.2" });
  const ask = marker("ask");
  await queueScript("openai", {
    reasoning: "The price list should have it.",
    tool_calls: [{ name: "search_knowledge", arguments: { query: `${topic} plan` } }],
  }, { model: GPT, contains: ask });
  // Slow enough for a second reader to join while it streams.
  await queueScript("openai", {
    text: "The plan costs 42 euros a month, as the price list says.",
    tokens_per_sec: 15,
    content_filter: true,
  }, { model: GPT, contains: ask });

  const stream = (messageId: string) =>
    fetch(`${FUNCTIONS_URL}/conversations/${conversationId}/messages/${messageId}/stream`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
  const response = await alice.send(conversationId, { content: `How much is the plan? ${ask}` });
  assert.equal(response.status, 200);
  let messageId = "";
  let follower: Promise<Chunk[]> | undefined;
  const live = await readLive(response, (chunk) => {
    if (chunk.type === "start") messageId = chunk.messageId;
    // A second reader joins while the second step streams its text.
    if (!follower && chunk.type === "text-delta") {
      follower = stream(messageId).then((r) => readSse(r) as Promise<Chunk[]>);
    }
  });
  assert.ok(follower, "no text was streamed");
  const followed = await follower;
  const replayed = await readSse(await stream(messageId)) as Chunk[];

  // The live stream has everything this test is about.
  const types = live.map((c) => c.type);
  for (
    const type of [
      "start",
      "start-step",
      "reasoning-start",
      "reasoning-delta",
      "reasoning-end",
      "tool-input-start",
      "tool-input-delta",
      "tool-input-available",
      "finish-step",
      "source-document",
      "tool-output-available",
      "text-start",
      "text-end",
      "data-title",
      "finish",
    ]
  ) assert.ok(types.includes(type), `no ${type} chunk in the live stream`);
  assert.equal(live.find((c) => c.type === "finish")?.finishReason, "content-filter");
  assert.equal(
    live.find((c) => c.type === "source-document")?.providerMetadata.aide.documentId,
    docId,
  );
  assert.equal(live.at(-1), "[DONE]");

  assert.deepEqual(merged(replayed), merged(live), "the replay differs from the live stream");
  assert.deepEqual(merged(followed), merged(live), "following differs from the live stream");

  // The stored message says the same.
  const stored = (await alice.api(`/conversations/${conversationId}`)).body.messages.at(-1);
  assert.equal(stored.finish_reason, "content-filter");
  // (One citation per passage the search returned; the title lands wherever it was ready.)
  const kinds = stored.parts.map((p: { type: string }) => p.type)
    .filter((t: string) => t !== "title")
    .filter((t: string, i: number, all: string[]) => t !== all[i - 1]);
  assert.deepEqual(kinds, [
    "step_start",
    "reasoning",
    "tool_call",
    "citation",
    "tool_result",
    "step_start",
    "text",
  ]);
  assert.ok(
    stored.parts.some((p: { type: string; document_id?: string }) =>
      p.type === "citation" && p.document_id === docId
    ),
  );
});
