/** The fake Anthropic server, driven through the official @anthropic-ai/sdk. */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { eventually, fakeTest, queueScript, requestLog, scriptHeader, within } from "./helpers.ts";

const MODEL = "claude-sonnet-4-6";
const QUESTION = "Hello there, how are you today?";
const EXPECTED = `Reply from ${MODEL}: ${QUESTION}`;
const user = (content: string) => [{ role: "user" as const, content }];

function client(baseURL: string, opts: Partial<ConstructorParameters<typeof Anthropic>[0]> = {}) {
  return new Anthropic({ apiKey: "test", baseURL, ...opts });
}

const textOf = (message: Anthropic.Message) =>
  message.content.map((b) => (b.type === "text" ? b.text : "")).join("");

fakeTest(
  "anthropic: streaming text assembles to the default reply, with usage",
  async ({ anthropicUrl }) => {
    const stream = client(anthropicUrl).messages.stream({
      model: MODEL,
      max_tokens: 100,
      system: "Be brief.",
      messages: user(QUESTION),
    });
    const deltas: string[] = [];
    stream.on("text", (delta) => deltas.push(delta));
    const message = await stream.finalMessage();

    assert.match(message.id, /^msg_/);
    assert.equal(message.model, MODEL);
    assert.equal(textOf(message), EXPECTED);
    assert.equal(deltas.length, EXPECTED.split(" ").length, "one text_delta per word");
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(message.usage.input_tokens, Math.ceil(("Be brief." + QUESTION).length / 4));
    assert.equal(message.usage.output_tokens, deltas.length);
    assert.equal(message.usage.cache_creation_input_tokens, 0);
    assert.equal(message.usage.cache_read_input_tokens, 0);
  },
);

fakeTest("anthropic: scripted usage overrides arrive in the stream", async ({ anthropicUrl }) => {
  const usage = {
    input_tokens: 12,
    output_tokens: 34,
    cached_tokens: 1000,
    cache_creation_tokens: 200,
  };
  const message = await client(anthropicUrl).messages.stream(
    { model: MODEL, max_tokens: 100, messages: user(QUESTION) },
    { headers: scriptHeader({ text: "Cached answer", usage }) },
  ).finalMessage();
  assert.equal(textOf(message), "Cached answer");
  assert.equal(message.usage.input_tokens, 12);
  assert.equal(message.usage.output_tokens, 34);
  assert.equal(message.usage.cache_read_input_tokens, 1000);
  assert.equal(message.usage.cache_creation_input_tokens, 200);
});

fakeTest("anthropic: raw wire format of a stream", async ({ anthropicUrl }) => {
  const res = await fetch(`${anthropicUrl}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": "test",
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
    },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 100,
      stream: true,
      messages: user("one two"),
    }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.match(res.headers.get("request-id") ?? "", /^req_/);
  const events = (await res.text()).split("\n\n").filter(Boolean).map((raw) => {
    const [eventLine, dataLine, ...rest] = raw.split("\n");
    assert.deepEqual(rest, []);
    const type = eventLine.replace(/^event: /, "");
    const data = JSON.parse(dataLine.replace(/^data: /, ""));
    assert.equal(data.type, type, "event name matches data.type");
    return data;
  });
  const text = `Reply from ${MODEL}: one two`;
  assert.deepEqual(events.map((e) => e.type), [
    "message_start",
    "ping",
    "content_block_start",
    ...text.split(" ").map(() => "content_block_delta"),
    "content_block_stop",
    "message_delta",
    "message_stop",
  ]);
  const start = events[0].message;
  assert.deepEqual(start.content, []);
  assert.equal(start.stop_reason, null);
  assert.deepEqual(Object.keys(start.usage).slice(0, 4), [
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
  ]);
  assert.deepEqual(events[2].content_block, { type: "text", text: "" });
  assert.deepEqual(events.at(-2).delta, { stop_reason: "end_turn", stop_sequence: null });
  assert.equal(events.at(-2).usage.output_tokens, text.split(" ").length);
});

fakeTest("anthropic: tool_use blocks assemble with messages.stream", async ({ anthropicUrl }) => {
  const input = { city: "Paris", units: "metric", days: [1, 2, 3] };
  let jsonFragments = 0;
  const stream = client(anthropicUrl).messages.stream({
    model: MODEL,
    max_tokens: 200,
    tools: [{ name: "get_weather", input_schema: { type: "object" } }],
    messages: user(
      `Weather? [[fake ${
        JSON.stringify({
          text: "Let me check.",
          tool_calls: [{ name: "get_weather", arguments: input }],
        })
      }]]`,
    ),
  });
  stream.on("inputJson", () => jsonFragments++);
  const message = await stream.finalMessage();

  assert.equal(message.stop_reason, "tool_use");
  assert.equal(message.content.length, 2);
  assert.deepEqual(message.content[0], { type: "text", text: "Let me check." });
  const tool = message.content[1];
  assert.equal(tool.type, "tool_use");
  if (tool.type !== "tool_use") return;
  assert.match(tool.id, /^toolu_/);
  assert.equal(tool.name, "get_weather");
  assert.deepEqual(tool.input, input);
  assert.ok(
    jsonFragments > 3,
    `input arrives as several partial_json fragments (${jsonFragments})`,
  );
});

fakeTest(
  "anthropic: thinking block with signature when thinking is enabled",
  async ({ anthropicUrl }) => {
    const anthropic = client(anthropicUrl);
    const script = scriptHeader({ reasoning: "First, consider the question.", text: "Done." });
    let thinkingDeltas = 0;
    const stream = anthropic.messages.stream({
      model: MODEL,
      max_tokens: 2000,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: user(QUESTION),
    }, { headers: script });
    stream.on("thinking", () => thinkingDeltas++);
    const message = await stream.finalMessage();

    assert.deepEqual(message.content.map((b) => b.type), ["thinking", "text"]);
    const thinking = message.content[0];
    if (thinking.type !== "thinking") throw new Error("expected a thinking block");
    assert.equal(thinking.thinking, "First, consider the question.");
    assert.ok(thinking.signature.length > 20, "signature arrives via signature_delta");
    assert.equal(thinkingDeltas, 4);
    assert.equal(textOf(message), "Done.");
    assert.equal(message.usage.output_tokens, 4 + 1, "thinking tokens are output tokens");

    // Same script without thinking enabled: no thinking block.
    const plain = await anthropic.messages.stream(
      { model: MODEL, max_tokens: 2000, messages: user(QUESTION) },
      { headers: script },
    ).finalMessage();
    assert.deepEqual(plain.content.map((b) => b.type), ["text"]);
    assert.equal(plain.usage.output_tokens, 1);
  },
);

fakeTest(
  "anthropic: non-streaming messages, with thinking and tool_use",
  async ({ anthropicUrl }) => {
    const anthropic = client(anthropicUrl);
    const message = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: user(QUESTION),
    });
    assert.equal(message.type, "message");
    assert.equal(message.role, "assistant");
    assert.equal(textOf(message), EXPECTED);
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(message.usage.output_tokens, EXPECTED.split(" ").length);
    assert.equal(message._request_id?.startsWith("req_"), true);

    const withTools = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 100,
      thinking: { type: "enabled", budget_tokens: 50 },
      messages: user("go"),
    }, {
      headers: scriptHeader({
        reasoning: "hmm",
        tool_calls: [{ id: "toolu_fixed", name: "run", arguments: { n: 1 } }],
      }),
    });
    assert.equal(withTools.stop_reason, "tool_use");
    assert.deepEqual(withTools.content.map((b) => b.type), ["thinking", "tool_use"]);
    assert.deepEqual(withTools.content[1], {
      type: "tool_use",
      id: "toolu_fixed",
      name: "run",
      input: { n: 1 },
    });
  },
);

fakeTest("anthropic: max_tokens stops with stop_reason max_tokens", async ({ anthropicUrl }) => {
  const message = await client(anthropicUrl).messages.create({
    model: MODEL,
    max_tokens: 2,
    messages: user(QUESTION),
  });
  assert.equal(textOf(message), "Reply from ");
  assert.equal(message.stop_reason, "max_tokens");
  assert.equal(message.usage.output_tokens, 2);
});

fakeTest(
  "anthropic: scripted HTTP errors surface as the SDK's typed errors",
  async ({ anthropicUrl }) => {
    const anthropic = client(anthropicUrl, { maxRetries: 0 });
    const ask = (status: number) =>
      anthropic.messages.create({ model: MODEL, max_tokens: 10, messages: user("hi") }, {
        headers: scriptHeader({ status }),
      }).catch((e) => e);

    const rateLimited = await ask(429);
    assert.ok(rateLimited instanceof Anthropic.RateLimitError);
    assert.equal(rateLimited.status, 429);
    assert.equal(rateLimited.type, "rate_limit_error");
    assert.match(rateLimited.requestID ?? "", /^req_/);

    const serverError = await ask(500);
    assert.ok(serverError instanceof Anthropic.InternalServerError);
    assert.equal(serverError.type, "api_error");

    const overloaded = await ask(529);
    assert.ok(overloaded instanceof Anthropic.APIError);
    assert.equal(overloaded.status, 529);
    assert.equal(overloaded.type, "overloaded_error");
    assert.equal(overloaded.apiMessage, "Overloaded");

    const invalid = await ask(400);
    assert.ok(invalid instanceof Anthropic.BadRequestError);
    assert.equal(invalid.type, "invalid_request_error");
  },
);

fakeTest(
  "anthropic: SDK retries honour Retry-After and show in the request log",
  async ({ anthropicUrl }) => {
    const started = Date.now();
    const error = await client(anthropicUrl).messages.create(
      { model: MODEL, max_tokens: 10, messages: user("overloaded all day") },
      { headers: scriptHeader({ status: 529, retry_after: 0.05 }) },
    ).catch((e) => e);
    const elapsed = Date.now() - started;
    assert.ok(error instanceof Anthropic.APIError && error.status === 529);
    const attempts = await requestLog(anthropicUrl, "overloaded all day");
    assert.deepEqual(attempts.map((r) => r.status), [529, 529, 529], "1 request + 2 retries");
    assert.ok(elapsed >= 100 && elapsed < 1000, `retries waited ${elapsed} ms`);
  },
);

fakeTest("anthropic: mid-stream overloaded_error after N tokens", async ({ anthropicUrl }) => {
  const anthropic = client(anthropicUrl);
  const stream = await anthropic.messages.create(
    { model: MODEL, max_tokens: 100, stream: true, messages: user(QUESTION) },
    { headers: scriptHeader({ error_after_tokens: 4 }) },
  );
  let deltas = 0;
  const error = await (async () => {
    for await (const event of stream) {
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") deltas++;
    }
  })().catch((e) => e);
  assert.equal(deltas, 4);
  assert.ok(error instanceof Anthropic.APIError, `got ${error}`);
  assert.equal(error.status, undefined, "mid-stream errors carry no HTTP status");
  assert.equal(error.type, "overloaded_error");
  assert.equal(error.apiMessage, "Overloaded");

  // The MessageStream helper rejects with the same error.
  const helper = await anthropic.messages.stream(
    { model: MODEL, max_tokens: 100, messages: user(QUESTION) },
    { headers: scriptHeader({ error_after_tokens: 1, error_type: "api_error" }) },
  ).finalMessage().catch((e) => e);
  assert.ok(helper instanceof Anthropic.APIError);
  assert.equal(helper.type, "api_error");
});

fakeTest("anthropic: a dropped connection makes the iterator throw", async ({ anthropicUrl }) => {
  const stream = await client(anthropicUrl).messages.create(
    { model: MODEL, max_tokens: 100, stream: true, messages: user(QUESTION) },
    { headers: scriptHeader({ drop_after_tokens: 3 }) },
  );
  let deltas = 0;
  const error = await within(
    3000,
    (async () => {
      for await (const event of stream) if (event.type === "content_block_delta") deltas++;
    })().catch((e) => e),
  );
  assert.equal(deltas, 3);
  assert.ok(error instanceof TypeError, `a raw fetch body error, not an SDK error: ${error}`);
  assert.equal((await requestLog(anthropicUrl))[0].fault, "drop");
});

fakeTest("anthropic: stalls end with the SDK timeout or an abort", async ({ anthropicUrl }) => {
  const anthropic = client(anthropicUrl, { maxRetries: 0 });

  const timedOut = await within(
    3000,
    anthropic.messages.create(
      { model: MODEL, max_tokens: 10, messages: user("stall please") },
      { timeout: 200, headers: scriptHeader({ stall_after_tokens: 0 }) },
    ).catch((e) => e),
  );
  assert.ok(timedOut instanceof Anthropic.APIConnectionTimeoutError, `got ${timedOut}`);

  const abort = new AbortController();
  const stream = anthropic.messages.stream(
    { model: MODEL, max_tokens: 100, messages: user("stall mid-stream") },
    { signal: abort.signal, headers: scriptHeader({ stall_after_tokens: 2 }) },
  );
  let deltas = 0;
  stream.on("text", () => ++deltas === 2 && setTimeout(() => abort.abort(), 50));
  const aborted = await within(3000, stream.finalMessage().catch((e) => e));
  assert.equal(deltas, 2);
  assert.ok(aborted instanceof Anthropic.APIUserAbortError, `got ${aborted}`);

  await eventually(async () => (await requestLog(anthropicUrl))[1].client_closed);
  const log = await requestLog(anthropicUrl);
  assert.deepEqual(log.map((r) => [r.status, r.fault]), [[null, "stall"], [200, "stall"]]);
});

fakeTest("anthropic: authentication and version headers are required", async ({ anthropicUrl }) => {
  const noKey = await client(anthropicUrl, {
    maxRetries: 0,
    defaultHeaders: { Authorization: null },
  })
    .messages.create({ model: MODEL, max_tokens: 10, messages: user("hi") }).catch((e) => e);
  assert.ok(noKey instanceof Anthropic.AuthenticationError);
  assert.equal(noKey.status, 401);
  assert.equal(noKey.type, "authentication_error");

  const noVersion = await client(anthropicUrl, {
    maxRetries: 0,
    defaultHeaders: { "anthropic-version": null },
  })
    .messages.create({ model: MODEL, max_tokens: 10, messages: user("hi") }).catch((e) => e);
  assert.ok(noVersion instanceof Anthropic.BadRequestError);
  assert.match(noVersion.apiMessage ?? "", /anthropic-version/);

  // The SDK sends `Authorization: Bearer`; the x-api-key header works too.
  const res = await fetch(`${anthropicUrl}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": "test", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: user("hi") }),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).content[0].text, `Reply from ${MODEL}: hi`);
});

fakeTest("anthropic: directive and queue scripts; log filter", async ({ anthropicUrl }) => {
  const anthropic = client(anthropicUrl);
  const ask = async (content: string, model = MODEL) =>
    textOf(await anthropic.messages.create({ model, max_tokens: 100, messages: user(content) }));

  assert.equal(
    await ask('Hi [[fake {"text": "from [[brackets]] directive"}]]'),
    "from [[brackets]] directive",
  );
  assert.equal(
    await ask('Hello world [[fake {"delay_ms": 1}]]'),
    `Reply from ${MODEL}: Hello world`,
  );

  await queueScript(anthropicUrl, {
    script: { text: "for haiku" },
    match: { model: "claude-haiku" },
  });
  assert.equal(await ask("first"), `Reply from ${MODEL}: first`);
  assert.equal(await ask("second", "claude-haiku"), "for haiku");
  assert.equal(await ask("third", "claude-haiku"), "Reply from claude-haiku: third");

  // `contains` also matches the system prompt and earlier turns.
  await anthropic.messages.create({
    model: MODEL,
    max_tokens: 10,
    system: "secret-system-marker",
    messages: [...user("earlier"), { role: "assistant", content: "ok" }, ...user("latest")],
  });
  const found = await requestLog(anthropicUrl, "secret-system-marker");
  assert.deepEqual(found.map((r) => [r.api, r.last_user_text, r.status]), [[
    "anthropic",
    "latest",
    200,
  ]]);
  assert.equal((await requestLog(anthropicUrl, "[[fake")).length, 2);
});
