/** `malformed_after_tokens`: both fakes send one event that is not valid JSON, then carry on. */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { fakeTest, requestLog, scriptHeader, within } from "./helpers.ts";

const TEXT = "one two three four five";
const script = (n: number) => scriptHeader({ text: TEXT, malformed_after_tokens: n });

/** The `data:` payloads of a raw SSE body, and whether each parses as JSON. */
async function rawEvents(res: Response) {
  const frames = (await res.text()).split("\n\n").filter(Boolean);
  return frames.map((frame) => {
    const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))
      .join("\n");
    let json = true;
    try {
      JSON.parse(data);
    } catch {
      json = data === "[DONE]";
    }
    return { data, json };
  });
}

fakeTest("openai: a malformed event after N tokens, then the rest of the stream", async (f) => {
  const res = await fetch(`${f.openaiUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer test", "content-type": "application/json", ...script(2) },
    body: JSON.stringify({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  const events = await rawEvents(res);
  const bad = events.findIndex((e) => !e.json);
  assert.ok(bad > 0, "no malformed event");
  assert.equal(events.filter((e) => !e.json).length, 1);
  const textBefore = events.slice(0, bad).map((e) =>
    JSON.parse(e.data).choices?.[0]?.delta?.content ?? ""
  ).join("");
  assert.equal(textBefore, "one two ");
  assert.equal(events.at(-1)?.data, "[DONE]", "the stream carries on to its end");
  assert.equal((await requestLog(f.openaiUrl))[0].fault, "malformed");

  // The SDK gives up at the malformed event, after the tokens before it.
  const stream = await new OpenAI({ apiKey: "test", baseURL: f.openaiUrl }).chat.completions.create(
    { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true },
    { headers: script(2) },
  );
  let text = "";
  const error = await within(
    3000,
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    })().catch((e) => e),
  );
  assert.equal(text, "one two ");
  assert.ok(error instanceof SyntaxError, `got ${error}`);

  // Non-streaming: the body is not JSON.
  const plain = await fetch(`${f.openaiUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer test", "content-type": "application/json", ...script(0) },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(plain.status, 200);
  await assert.rejects(plain.json());
});

fakeTest("anthropic: a malformed event after N tokens, then the rest of the stream", async (f) => {
  const headers = {
    "x-api-key": "test",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
  };
  const body = {
    model: "claude-sonnet-4-6",
    max_tokens: 100,
    messages: [{ role: "user", content: "hi" }],
  };
  const res = await fetch(`${f.anthropicUrl}/v1/messages`, {
    method: "POST",
    headers: { ...headers, ...script(0) },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const events = await rawEvents(res);
  const bad = events.findIndex((e) => !e.json);
  assert.ok(bad > 0, "no malformed event");
  assert.equal(events.filter((e) => !e.json).length, 1);
  assert.ok(
    !events.slice(0, bad).some((e) => JSON.parse(e.data).type === "content_block_delta"),
    "malformed_after_tokens 0 comes before the first token",
  );
  assert.equal(JSON.parse(events.at(-1)!.data).type, "message_stop");

  const stream = await new Anthropic({ apiKey: "test", baseURL: f.anthropicUrl }).messages.create(
    {
      model: body.model,
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    },
    { headers: script(3) },
  );
  let text = "";
  const error = await within(
    3000,
    (async () => {
      for await (const event of stream) {
        if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
          text += event.delta.text;
        }
      }
    })().catch((e) => e),
  );
  assert.equal(text, "one two three ");
  assert.ok(error instanceof SyntaxError, `got ${error}`);

  const plain = await fetch(`${f.anthropicUrl}/v1/messages`, {
    method: "POST",
    headers: { ...headers, ...script(1) },
    body: JSON.stringify(body),
  });
  assert.equal(plain.status, 200);
  await assert.rejects(plain.json());
  assert.deepEqual((await requestLog(f.anthropicUrl)).map((r) => r.fault), [
    "malformed",
    "malformed",
    "malformed",
  ]);
});
