/** The fake OpenAI server, driven through the official openai SDK. */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { DEFAULT_EMBEDDING_DIMENSIONS, fakeEmbedding } from "../../local/fakes/openai.ts";
import {
  control,
  cosine,
  eventually,
  fakeTest,
  queueScript,
  requestLog,
  scriptHeader,
  within,
} from "./helpers.ts";

const MODEL = "gpt-4o-mini";
const QUESTION = "Hello there, how are you today?";
const EXPECTED = `Reply from ${MODEL}: ${QUESTION}`;
const user = (content: string) => [{ role: "user" as const, content }];

function client(baseURL: string, opts: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) {
  return new OpenAI({ apiKey: "test", baseURL, ...opts });
}

fakeTest(
  "openai: streaming text assembles to the default reply, with usage",
  async ({ openaiUrl }) => {
    const stream = await client(openaiUrl).chat.completions.create({
      model: MODEL,
      messages: [{ role: "system", content: "Be brief." }, ...user(QUESTION)],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    assert.equal(chunks[0].choices[0].delta.role, "assistant");
    assert.match(chunks[0].id, /^chatcmpl-/);
    assert.ok(chunks.every((c) => c.id === chunks[0].id && c.object === "chat.completion.chunk"));
    const deltas = chunks.map((c) => c.choices[0]?.delta?.content).filter(Boolean);
    assert.equal(deltas.join(""), EXPECTED);
    assert.equal(deltas.length, EXPECTED.split(" ").length, "one delta per word");
    assert.equal(chunks.at(-2)?.choices[0].finish_reason, "stop");

    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    const inputChars = "Be brief.".length + QUESTION.length;
    assert.deepEqual(last.usage, {
      prompt_tokens: Math.ceil(inputChars / 4),
      completion_tokens: deltas.length,
      total_tokens: Math.ceil(inputChars / 4) + deltas.length,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
  },
);

fakeTest("openai: scripted reasoning and usage overrides", async ({ openaiUrl }) => {
  const stream = await client(openaiUrl).chat.completions.create({
    model: MODEL,
    messages: user(QUESTION),
    stream: true,
    stream_options: { include_usage: true },
  }, {
    headers: scriptHeader({
      text: "Sure thing",
      reasoning: "Let me think first",
      usage: { input_tokens: 100, cached_tokens: 64 },
    }),
  });
  let reasoning = "", text = "";
  let usage;
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta as
      | { content?: string; reasoning_content?: string }
      | undefined;
    reasoning += delta?.reasoning_content ?? "";
    text += delta?.content ?? "";
    usage = chunk.usage ?? usage;
  }
  assert.equal(reasoning, "Let me think first");
  assert.equal(text, "Sure thing");
  assert.equal(usage?.prompt_tokens, 100);
  assert.equal(usage?.prompt_tokens_details?.cached_tokens, 64);
  assert.equal(usage?.completion_tokens_details?.reasoning_tokens, 4);
  assert.equal(usage?.completion_tokens, 4 + 2, "reasoning tokens count as completion tokens");
});

fakeTest(
  "openai: streamed tool calls assemble with chat.completions.stream",
  async ({ openaiUrl }) => {
    const script = {
      text: "Checking.",
      tool_calls: [
        { id: "call_fixed", name: "get_weather", arguments: { city: "Paris", days: [1, 2] } },
        { name: "get_time", arguments: { zone: "Europe/Paris" } },
      ],
    };
    const stream = client(openaiUrl).chat.completions.stream({
      model: MODEL,
      messages: user(`What's the weather? [[fake ${JSON.stringify(script)}]]`),
      tools: [
        { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
        { type: "function", function: { name: "get_time", parameters: { type: "object" } } },
      ],
    });
    let argumentFragments = 0;
    stream.on("chunk", (chunk) => {
      if (chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments) argumentFragments++;
    });
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0];

    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, "Checking.");
    const calls = choice.message.tool_calls ?? [];
    assert.equal(calls.length, 2);
    const [weather, time] = calls.map((c) => {
      assert.equal(c.type, "function");
      return c as OpenAI.ChatCompletionMessageFunctionToolCall;
    });
    assert.equal(weather.id, "call_fixed");
    assert.equal(weather.function.name, "get_weather");
    assert.deepEqual(JSON.parse(weather.function.arguments), { city: "Paris", days: [1, 2] });
    assert.match(time.id, /^call_/);
    assert.equal(time.function.name, "get_time");
    assert.deepEqual(JSON.parse(time.function.arguments), { zone: "Europe/Paris" });
    assert.ok(
      argumentFragments > 4,
      `arguments arrive in several fragments (got ${argumentFragments})`,
    );
  },
);

fakeTest("openai: non-streaming completion, with tool calls", async ({ openaiUrl }) => {
  const openai = client(openaiUrl);
  const completion = await openai.chat.completions.create({
    model: MODEL,
    messages: user(QUESTION),
  });
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices[0].message.content, EXPECTED);
  assert.equal(completion.choices[0].finish_reason, "stop");
  assert.equal(completion.usage?.completion_tokens, EXPECTED.split(" ").length);
  assert.equal(completion.usage?.prompt_tokens, Math.ceil(QUESTION.length / 4));

  const withTools = await openai.chat.completions.create(
    { model: MODEL, messages: user(QUESTION) },
    { headers: scriptHeader({ tool_calls: [{ name: "lookup", arguments: { q: "x" } }] }) },
  );
  const choice = withTools.choices[0];
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(choice.message.content, null);
  const call = choice.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
  assert.equal(call.function.name, "lookup");
  assert.deepEqual(JSON.parse(call.function.arguments), { q: "x" });
});

fakeTest("openai: max_tokens truncates with finish_reason length", async ({ openaiUrl }) => {
  const openai = client(openaiUrl);
  const completion = await openai.chat.completions.create({
    model: MODEL,
    messages: user(QUESTION),
    max_tokens: 3,
  });
  assert.equal(completion.choices[0].message.content, `Reply from ${MODEL}: `);
  assert.equal(completion.choices[0].finish_reason, "length");
  assert.equal(completion.usage?.completion_tokens, 3);

  const stream = await openai.chat.completions.create({
    model: MODEL,
    messages: user(QUESTION),
    max_completion_tokens: 2,
    stream: true,
  });
  let text = "", finish;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, "Reply from ");
  assert.equal(finish, "length");
});

fakeTest("openai: pacing follows ttft_ms and tokens_per_sec", async ({ openaiUrl }) => {
  const started = Date.now();
  const stream = await client(openaiUrl).chat.completions.create(
    { model: MODEL, messages: user("one two three"), stream: true },
    { headers: scriptHeader({ text: "a b c d e", ttft_ms: 150, tokens_per_sec: 50 }) },
  );
  const arrivals: number[] = [];
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) arrivals.push(Date.now() - started);
  }
  assert.equal(arrivals.length, 5);
  assert.ok(arrivals[0] >= 140, `first token after ttft (${arrivals[0]} ms)`);
  assert.ok(arrivals[4] - arrivals[0] >= 70, `4 gaps of 20 ms (${arrivals[4] - arrivals[0]} ms)`);
});

fakeTest(
  "openai: scripted HTTP errors surface as the SDK's typed errors",
  async ({ openaiUrl }) => {
    const openai = client(openaiUrl, { maxRetries: 0 });
    const ask = (status: number) =>
      openai.chat.completions.create({ model: MODEL, messages: user("hi") }, {
        headers: scriptHeader({ status, retry_after: 7 }),
      });

    const rateLimited = await ask(429).catch((e) => e);
    assert.ok(rateLimited instanceof OpenAI.RateLimitError);
    assert.equal(rateLimited.status, 429);
    assert.equal(rateLimited.code, "rate_limit_exceeded");
    assert.equal(rateLimited.headers?.get("retry-after"), "7");
    assert.match(rateLimited.requestID ?? "", /^req_/);

    const serverError = await ask(500).catch((e) => e);
    assert.ok(serverError instanceof OpenAI.InternalServerError);
    assert.equal(serverError.status, 500);
    assert.equal(serverError.type, "server_error");

    const unavailable = await ask(503).catch((e) => e);
    assert.ok(unavailable instanceof OpenAI.InternalServerError);
    assert.equal(unavailable.status, 503);
  },
);

fakeTest(
  "openai: SDK retries honour Retry-After and show in the request log",
  async ({ openaiUrl }) => {
    const openai = client(openaiUrl); // default maxRetries: 2
    const started = Date.now();
    const error = await openai.chat.completions.create(
      { model: MODEL, messages: user("always failing") },
      { headers: scriptHeader({ status: 500, retry_after: 0.05 }) },
    ).catch((e) => e);
    const elapsed = Date.now() - started;
    assert.ok(error instanceof OpenAI.InternalServerError);
    const attempts = await requestLog(openaiUrl, "always failing");
    assert.deepEqual(attempts.map((r) => r.status), [500, 500, 500], "1 request + 2 retries");
    // Without Retry-After the SDK would back off for at least ~1.1 s in total.
    assert.ok(elapsed >= 100 && elapsed < 1000, `retries waited ${elapsed} ms`);

    // Queued failures that clear up: the SDK's retries succeed.
    await queueScript(openaiUrl, {
      script: { status: 429, retry_after: 0.01 },
      match: { contains: "flaky" },
      times: 2,
    });
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: user("flaky call"),
    });
    assert.equal(completion.choices[0].message.content, `Reply from ${MODEL}: flaky call`);
    assert.deepEqual((await requestLog(openaiUrl, "flaky")).map((r) => r.status), [429, 429, 200]);
  },
);

fakeTest(
  "openai: mid-stream error after N tokens throws from the iterator",
  async ({ openaiUrl }) => {
    const stream = await client(openaiUrl).chat.completions.create(
      { model: MODEL, messages: user(QUESTION), stream: true },
      { headers: scriptHeader({ error_after_tokens: 3 }) },
    );
    const deltas: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta?.content;
        if (content) deltas.push(content);
      }
    })().catch((e) => e);
    assert.deepEqual(deltas, ["Reply ", "from ", `${MODEL}: `]);
    assert.ok(error instanceof OpenAI.APIError, `got ${error}`);
    assert.equal(error.status, undefined, "mid-stream errors carry no HTTP status");
    assert.equal(error.type, "server_error");
    assert.match(error.message, /The server had an error/);
    assert.equal((await requestLog(openaiUrl))[0].fault, "error");
  },
);

fakeTest("openai: a dropped connection makes the iterator throw", async ({ openaiUrl }) => {
  const stream = await client(openaiUrl).chat.completions.create(
    { model: MODEL, messages: user(QUESTION), stream: true },
    { headers: scriptHeader({ drop_after_tokens: 2 }) },
  );
  let deltas = 0;
  const error = await within(
    3000,
    (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) deltas++;
    })().catch((e) => e),
  );
  assert.equal(deltas, 2);
  assert.ok(error instanceof TypeError, `a raw fetch body error, not an SDK error: ${error}`);
});

fakeTest("openai: stalls end with the SDK timeout or an abort", async ({ openaiUrl }) => {
  const openai = client(openaiUrl, { maxRetries: 0 });

  // Non-streaming stall: no headers ever, so the SDK timeout fires.
  const timedOut = await within(
    3000,
    openai.chat.completions.create(
      { model: MODEL, messages: user("stall please") },
      { timeout: 200, headers: scriptHeader({ stall_after_tokens: 0 }) },
    ).catch((e) => e),
  );
  assert.ok(timedOut instanceof OpenAI.APIConnectionTimeoutError, `got ${timedOut}`);

  // Streaming, headers delayed: the SDK timeout covers the wait for headers.
  const slowHeaders = await within(
    3000,
    openai.chat.completions.create(
      { model: MODEL, messages: user("slow headers"), stream: true },
      { timeout: 200, headers: scriptHeader({ delay_ms: 5000 }) },
    ).catch((e) => e),
  );
  assert.ok(slowHeaders instanceof OpenAI.APIConnectionTimeoutError, `got ${slowHeaders}`);

  // Streaming stall after 2 tokens: the SDK timeout does not cover the body, an abort does.
  const abort = new AbortController();
  const stream = await openai.chat.completions.create(
    { model: MODEL, messages: user("stall mid-stream"), stream: true },
    { signal: abort.signal, headers: scriptHeader({ stall_after_tokens: 2 }) },
  );
  let deltas = 0;
  await within(
    3000,
    (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content && ++deltas === 2) setTimeout(() => abort.abort(), 50);
      }
    })(),
  );
  assert.equal(deltas, 2, "the openai SDK ends the iteration quietly on abort");

  // The server notices a client leaving only once streaming (before the headers it cannot).
  await eventually(async () => (await requestLog(openaiUrl))[2].client_closed);
  const log = await requestLog(openaiUrl);
  assert.deepEqual(log.map((r) => [r.status, r.client_closed]), [[null, false], [null, false], [
    200,
    true,
  ]]);
});

fakeTest(
  "openai: embeddings are deterministic, normalised and word-sensitive",
  async ({ openaiUrl }) => {
    const openai = client(openaiUrl);
    const texts = [
      "the cat sat on the mat",
      "the cat sat on the mat",
      "a cat sat on a rug",
      "quantum chromodynamics lecture notes",
    ];
    const result = await openai.embeddings.create({
      model: "text-embedding-3-small",
      input: texts,
    });
    const vectors = result.data.map((d) => d.embedding);

    assert.equal(vectors.length, 4);
    assert.deepEqual(result.data.map((d) => d.index), [0, 1, 2, 3]);
    assert.equal(vectors[0].length, DEFAULT_EMBEDDING_DIMENSIONS);
    assert.ok(Math.abs(Math.hypot(...vectors[0]) - 1) < 1e-5, "L2-normalised");
    assert.deepEqual(vectors[0], vectors[1], "same text, same vector");
    assert.deepEqual(
      vectors[0],
      fakeEmbedding(texts[0]),
      "the SDK decodes exactly the exported vector",
    );
    const related = cosine(vectors[0], vectors[2]);
    const unrelated = cosine(vectors[0], vectors[3]);
    assert.ok(
      related > 0.3 && related > unrelated + 0.2,
      `related ${related}, unrelated ${unrelated}`,
    );
    assert.ok(Math.abs(unrelated) < 0.2, `unrelated texts are near-orthogonal (${unrelated})`);
    const chars = texts.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
    assert.deepEqual(result.usage, { prompt_tokens: chars, total_tokens: chars });

    const small = await openai.embeddings.create({
      model: "text-embedding-3-small",
      input: "the cat",
      dimensions: 256,
      encoding_format: "float",
    });
    assert.equal(small.data[0].embedding.length, 256);
    assert.deepEqual(small.data[0].embedding, fakeEmbedding("the cat", 256));
  },
);

fakeTest("openai: missing API key is a 401 AuthenticationError", async ({ openaiUrl }) => {
  const openai = client(openaiUrl, { maxRetries: 0, defaultHeaders: { Authorization: null } });
  const error = await openai.chat.completions.create({ model: MODEL, messages: user("hi") }).catch((
    e,
  ) => e);
  assert.ok(error instanceof OpenAI.AuthenticationError);
  assert.equal(error.status, 401);
  assert.equal(error.code, "invalid_api_key");
  const models = await openai.models.list().catch((e) => e);
  assert.ok(models instanceof OpenAI.AuthenticationError);
});

fakeTest("openai: scripts from a directive, a header and the queue", async ({ openaiUrl }) => {
  const openai = client(openaiUrl, { maxRetries: 0 });
  const ask = async (
    content: string,
    opts: { model?: string; headers?: Record<string, string> } = {},
  ) => {
    const completion = await openai.chat.completions.create(
      { model: opts.model ?? MODEL, messages: user(content) },
      { headers: opts.headers },
    );
    return completion.choices[0].message.content;
  };

  // Directive: applied, and never echoed in the default reply.
  assert.equal(await ask('Hi [[fake {"text": "from the directive"}]]'), "from the directive");
  assert.equal(
    await ask('Hello world [[fake {"delay_ms": 1}]]'),
    `Reply from ${MODEL}: Hello world`,
  );
  // Header wins over the directive.
  assert.equal(
    await ask('Hi [[fake {"text": "directive"}]]', { headers: scriptHeader({ text: "header" }) }),
    "header",
  );
  // Invalid header JSON is a 400.
  const bad = await ask("Hi", { headers: { "x-fake-script": "{nope" } }).catch((e) => e);
  assert.ok(bad instanceof OpenAI.BadRequestError);

  // Queue: only a request matching both model and substring consumes it, `times` times.
  await queueScript(openaiUrl, {
    script: { text: "queued" },
    match: { model: "gpt-4o", contains: "needle" },
    times: 2,
  });
  assert.deepEqual(await control(openaiUrl, "GET", "/__fake/scripts"), [
    { script: { text: "queued" }, match: { model: "gpt-4o", contains: "needle" }, times: 2 },
  ]);
  assert.equal(await ask("needle", { model: "gpt-4o-mini" }), "Reply from gpt-4o-mini: needle");
  assert.equal(await ask("haystack", { model: "gpt-4o" }), "Reply from gpt-4o: haystack");
  assert.equal(await ask("a needle here", { model: "gpt-4o" }), "queued");
  assert.equal(await ask("another needle", { model: "gpt-4o" }), "queued");
  assert.equal(await ask("needle again", { model: "gpt-4o" }), "Reply from gpt-4o: needle again");

  await queueScript(openaiUrl, { script: { text: "never used" } });
  await control(openaiUrl, "DELETE", "/__fake/scripts");
  assert.equal(await ask("cleared"), `Reply from ${MODEL}: cleared`);
});

fakeTest("openai: the request log records and filters requests", async ({ openaiUrl }) => {
  const openai = client(openaiUrl);
  await openai.chat.completions.create({
    model: MODEL,
    messages: [{ role: "system", content: "system marker-A" }, ...user("first question")],
  });
  const stream = await openai.chat.completions.create({
    model: "gpt-4o",
    messages: user("second question marker-B"),
    stream: true,
  });
  for await (const _ of stream) { /* drain */ }
  await openai.embeddings.create({ model: "text-embedding-3-small", input: ["embed marker-B"] });

  const all = await requestLog(openaiUrl);
  assert.deepEqual(all.map(({ at: _at, ...rest }) => rest), [
    {
      api: "openai",
      path: "/v1/chat/completions",
      model: MODEL,
      stream: false,
      last_user_text: "first question",
      status: 200,
      client_closed: false,
    },
    {
      api: "openai",
      path: "/v1/chat/completions",
      model: "gpt-4o",
      stream: true,
      last_user_text: "second question marker-B",
      status: 200,
      client_closed: false,
    },
    {
      api: "openai",
      path: "/v1/embeddings",
      model: "text-embedding-3-small",
      stream: false,
      last_user_text: "embed marker-B",
      status: 200,
      client_closed: false,
    },
  ]);
  assert.deepEqual((await requestLog(openaiUrl, "marker-A")).map((r) => r.last_user_text), [
    "first question",
  ]);
  assert.deepEqual((await requestLog(openaiUrl, "marker-B")).map((r) => r.path), [
    "/v1/chat/completions",
    "/v1/embeddings",
  ]);
  await control(openaiUrl, "DELETE", "/__fake/requests");
  assert.deepEqual(await requestLog(openaiUrl), []);
});

fakeTest("openai: raw wire format of a stream, and the model list", async ({ openaiUrl }) => {
  const res = await fetch(`${openaiUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer test", "content-type": "application/json" },
    body: JSON.stringify({
      model: MODEL,
      messages: user("hi"),
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.match(res.headers.get("x-request-id") ?? "", /^req_/);
  const events = (await res.text()).split("\n\n").filter(Boolean);
  assert.ok(
    events.every((e) => e.startsWith("data: ") && !e.includes("\n")),
    "one data line per event",
  );
  assert.equal(events.at(-1), "data: [DONE]");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === null && c.choices.length === 1));
  assert.equal(chunks.at(-1).choices.length, 0);
  assert.ok(
    chunks.every((c) => c.system_fingerprint && c.model === MODEL && typeof c.created === "number"),
  );

  const models = [];
  for await (const model of client(openaiUrl).models.list()) models.push(model.id);
  assert.ok(models.includes("gpt-4o-mini") && models.includes("text-embedding-3-small"));
});
