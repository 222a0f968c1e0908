/** streamChat's product rule: retries and fallback only before the first token; timeouts, aborts. */
import assert from "node:assert/strict";
import { LlmError, streamChat } from "../../supabase/functions/_shared/llm/index.ts";
import {
  anthropicSpec,
  CLAUDE,
  drain,
  FAST,
  finishOf,
  GPT,
  llmTest,
  openaiSpec,
  queueScript,
  recorder,
  requestLog,
  scripted,
  textOf,
  within,
} from "./helpers.ts";

const ask = (content: string) => ({ messages: [{ role: "user" as const, content }] });
const statuses = (records: { status: string; errorKind?: string }[]) =>
  records.map((r) => `${r.status}${r.errorKind ? `:${r.errorKind}` : ""}`);

llmTest("retry: 529 twice then success on Anthropic", async ({ claude, anthropicUrl }) => {
  await queueScript(anthropicUrl, { script: { status: 529 }, match: { model: CLAUDE }, times: 2 });
  const { onAttempt, records } = recorder();
  const { text, error } = await drain(
    streamChat([claude], ask("flaky"), { onAttempt, retry: FAST }),
  );
  assert.equal(error, undefined);
  assert.equal(text, `Reply from ${CLAUDE}: flaky`);
  assert.deepEqual(statuses(records), ["error:overloaded", "error:overloaded", "ok"]);
  assert.deepEqual(records.map((r) => r.attempt), [1, 2, 3]);
  assert.deepEqual((await requestLog(anthropicUrl)).map((r) => r.status), [529, 529, 200]);
});

llmTest(
  "retry: 429 with Retry-After twice then success on OpenAI, waiting as asked",
  async ({ gpt, openaiUrl }) => {
    await queueScript(openaiUrl, {
      script: { status: 429, retry_after: 0.1 },
      match: { model: GPT },
      times: 2,
    });
    const { onAttempt, records } = recorder();
    const started = Date.now();
    const { text, error } = await drain(
      streamChat([gpt], ask("flaky"), { onAttempt, retry: { baseDelayMs: 1, maxDelayMs: 1000 } }),
    );
    const elapsed = Date.now() - started;
    assert.equal(error, undefined);
    assert.equal(text, `Reply from ${GPT}: flaky`);
    assert.deepEqual(statuses(records), ["error:rate_limited", "error:rate_limited", "ok"]);
    assert.ok(elapsed >= 190, `waited the Retry-After twice (${elapsed} ms)`);

    // A Retry-After beyond maxDelayMs is capped.
    await queueScript(openaiUrl, {
      script: { status: 429, retry_after: 30 },
      match: { model: GPT },
      times: 1,
    });
    const capped = await within(
      2000,
      drain(streamChat([gpt], ask("capped"), { retry: { maxDelayMs: 20 } })),
    );
    assert.equal(capped.text, `Reply from ${GPT}: capped`);
  },
);

llmTest(
  "fallback: a model that always fails hands over to the next",
  async ({ claude, openaiUrl }) => {
    const broken = openaiSpec(openaiUrl, { alias: "gpt-broken", providerModel: "gpt-broken" });
    await queueScript(openaiUrl, {
      script: { status: 500 },
      match: { model: "gpt-broken" },
      times: 100,
    });
    const { onAttempt, records } = recorder();
    const stream = streamChat([broken, claude], ask("hello"), {
      onAttempt,
      retry: { ...FAST, maxRetriesPerModel: 1 },
    });
    const { text, error } = await drain(stream);
    assert.equal(error, undefined);
    assert.equal(text, `Reply from ${CLAUDE}: hello`);
    assert.equal(stream.model?.alias, "claude");
    assert.deepEqual(records.map((r) => [r.model, r.status, r.errorKind]), [
      ["gpt-broken", "error", "server_error"],
      ["gpt-broken", "error", "server_error"],
      ["claude", "ok", undefined],
    ]);
    assert.deepEqual(records.map((r) => r.attempt), [1, 2, 3]);
  },
);

llmTest("after the first token: the error is thrown, no retry, no fallback", async (fakes) => {
  const cases = [
    { spec: fakes.claude, url: fakes.anthropicUrl, other: fakes.openaiUrl, kind: "overloaded" },
    { spec: fakes.gpt, url: fakes.openaiUrl, other: fakes.anthropicUrl, kind: "server_error" },
  ];
  for (const { spec, url, other, kind } of cases) {
    const fallback = spec === fakes.claude ? fakes.gpt : fakes.claude;
    for (
      const [script, expectedKind] of [[{ error_after_tokens: 3 }, kind], [
        { drop_after_tokens: 3 },
        "network",
      ]] as const
    ) {
      const marker = crypto.randomUUID();
      const { onAttempt, records } = recorder();
      const { events, error } = await within(
        3000,
        drain(
          streamChat([spec, fallback], ask(scripted(marker, script)), { onAttempt, retry: FAST }),
        ),
      );
      assert.deepEqual(events.map((e) => e.type === "text" && e.delta), [
        "Reply ",
        "from ",
        `${spec.providerModel}: `,
      ]);
      assert.ok(error instanceof LlmError, `got ${error}`);
      assert.equal(error.kind, expectedKind);
      assert.equal(error.afterFirstToken, true);
      assert.equal((await requestLog(url, marker)).length, 1, "one request: no retry");
      assert.equal((await requestLog(other, marker)).length, 0, "no fallback");
      assert.deepEqual(statuses(records), [`error:${expectedKind}`]);
    }
  }
});

llmTest("timeout: a stalled stream fails in bounded time", async ({ gpt, claude, openaiUrl }) => {
  // After the first token: thrown as is.
  const { onAttempt, records } = recorder();
  const started = Date.now();
  const stalled = await within(
    2000,
    drain(
      streamChat(
        [claude],
        { ...ask(scripted("stall", { stall_after_tokens: 2 })), timeoutMs: 300 },
        { onAttempt },
      ),
    ),
  );
  assert.ok(Date.now() - started >= 280);
  assert.equal(textOf(stalled.events), "Reply from ");
  assert.equal(stalled.error?.kind, "timeout");
  assert.equal(stalled.error?.afterFirstToken, true);
  assert.deepEqual(statuses(records), ["error:timeout"]);

  // Before the first token: a timeout is retryable.
  const before = recorder();
  const silent = await within(
    3000,
    drain(
      streamChat([gpt], { ...ask(scripted("silent", { stall_after_tokens: 0 })), timeoutMs: 200 }, {
        onAttempt: before.onAttempt,
        retry: { ...FAST, maxRetriesPerModel: 1 },
      }),
    ),
  );
  assert.equal(silent.error?.kind, "timeout");
  assert.equal(silent.error?.afterFirstToken, false);
  assert.deepEqual(statuses(before.records), ["error:timeout", "error:timeout"]);
  assert.equal((await requestLog(openaiUrl, "silent")).length, 2);

  // No response headers at all: the timeout covers the wait for them too.
  const headless = await within(
    2000,
    drain(streamChat([gpt], { ...ask(scripted("slow", { delay_ms: 5000 })), timeoutMs: 200 }, {
      retry: { maxRetriesPerModel: 0 },
    })),
  );
  assert.equal(headless.error?.kind, "timeout");
});

llmTest(
  "abort mid-stream: kind aborted, promptly, reported with partial usage",
  async ({ claude, anthropicUrl }) => {
    const controller = new AbortController();
    const { onAttempt, records } = recorder();
    const script = {
      text: "one two three four five six seven eight",
      tokens_per_sec: 20,
      usage: { input_tokens: 42 },
    };
    const stream = streamChat([claude], {
      ...ask(scripted("abort me", script)),
      signal: controller.signal,
    }, {
      onAttempt,
    });
    let deltas = 0;
    let abortedAt = 0;
    const error = await within(
      2000,
      (async () => {
        for await (const event of stream) {
          if (event.type === "text" && ++deltas === 2) {
            abortedAt = Date.now();
            controller.abort();
          }
        }
      })().catch((e) => e),
    );
    assert.ok(error instanceof LlmError, `got ${error}`);
    assert.equal(error.kind, "aborted");
    assert.ok(Date.now() - abortedAt < 200, "promptly");
    assert.equal(deltas, 2);
    assert.equal(records.length, 1);
    assert.equal(records[0].status, "aborted");
    assert.equal(records[0].errorKind, "aborted");
    assert.equal(records[0].usage.inputTokens, 42, "message_start usage is kept");
    assert.equal((await requestLog(anthropicUrl)).length, 1);

    // Already aborted: nothing is sent, nothing reported.
    const none = recorder();
    const early = await drain(
      streamChat([claude], { ...ask("never"), signal: controller.signal }, none),
    );
    assert.equal(early.error?.kind, "aborted");
    assert.equal(none.records.length, 0);
    assert.equal((await requestLog(anthropicUrl, "never")).length, 0);
  },
);

llmTest(
  "a consumer that stops reading ends the attempt, reported once as aborted",
  async ({ gpt, openaiUrl }) => {
    const { onAttempt, records } = recorder();
    const stream = streamChat([gpt], ask(scripted("break", { tokens_per_sec: 50 })), { onAttempt });
    for await (const event of stream) if (event.type === "text") break;
    assert.deepEqual(statuses(records), ["aborted"]);
    assert.equal(records[0].ttftMs !== null, true);
    // The fake sees the client go away.
    const deadline = Date.now() + 2000;
    while (!(await requestLog(openaiUrl))[0].client_closed) {
      assert.ok(Date.now() < deadline, "the connection was released");
      await new Promise((r) => setTimeout(r, 20));
    }
  },
);

llmTest("non-retryable: 400 stops at once; 401 and a missing key fall back", async (fakes) => {
  const { claude, gpt, openaiUrl, anthropicUrl } = fakes;
  await queueScript(openaiUrl, { script: { status: 400 }, match: { contains: "bad request" } });
  const bad = recorder();
  const invalid = await drain(
    streamChat([gpt, claude], ask("bad request"), { ...bad, retry: FAST }),
  );
  assert.equal(invalid.error?.kind, "invalid_request");
  assert.equal(invalid.error?.status, 400);
  assert.equal(invalid.error?.afterFirstToken, false);
  assert.deepEqual(statuses(bad.records), ["error:invalid_request"]);
  assert.equal((await requestLog(anthropicUrl, "bad request")).length, 0, "no fallback");

  await queueScript(openaiUrl, { script: { status: 401 }, match: { contains: "wrong key" } });
  const auth = recorder();
  const fellBack = await drain(
    streamChat([gpt, claude], ask("wrong key"), { ...auth, retry: FAST }),
  );
  assert.equal(fellBack.text, `Reply from ${CLAUDE}: wrong key`);
  assert.deepEqual(statuses(auth.records), ["error:authentication", "ok"]);
  assert.equal((await requestLog(openaiUrl, "wrong key")).length, 1, "no retry");

  const unconfigured = anthropicSpec(anthropicUrl, {
    alias: "no-key",
    apiKeyEnv: "AIDE_LLM_TEST_UNSET_KEY",
  });
  const missing = recorder();
  const served = await drain(streamChat([unconfigured, gpt], ask("no key"), missing));
  assert.equal(finishOf(served.events).reason, "stop");
  assert.deepEqual(statuses(missing.records), ["error:not_configured", "ok"]);

  const alone = await drain(streamChat([unconfigured], ask("no key")));
  assert.equal(alone.error?.kind, "not_configured");
  assert.match(alone.error?.message ?? "", /AIDE_LLM_TEST_UNSET_KEY/);

  // Key-shaped strings echoed by providers never reach messages.
  const echoed = new LlmError(
    "authentication",
    "Incorrect API key provided: sk-proj-abc123def456",
    "openai",
    "gpt",
  );
  assert.ok(!echoed.message.includes("abc123def456"), echoed.message);

  // openai_compatible never borrows the OpenAI key.
  const compatible = openaiSpec(openaiUrl, { provider: "openai_compatible", apiKeyEnv: undefined });
  assert.equal((await drain(streamChat([compatible], ask("hi")))).error?.kind, "not_configured");
});
