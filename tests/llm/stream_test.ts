/** streamChat against both fake providers: normalized text, usage, finish reasons, tools, reasoning. */
import assert from "node:assert/strict";
import {
  type LlmEvent,
  type LlmMessage,
  streamChat,
} from "../../supabase/functions/_shared/llm/index.ts";
import {
  anthropicSpec,
  captureProxy,
  CLAUDE,
  drain,
  finishOf,
  GPT,
  llmTest,
  openaiSpec,
  recorder,
  requestLog,
  scripted,
} from "./helpers.ts";

const QUESTION = "Hello there, friend";
const types = (events: LlmEvent[]) => events.map((e) => e.type);

llmTest(
  "both providers stream the same normalized events through the same call",
  async ({ claude, gpt }) => {
    const results = [];
    for (const spec of [claude, gpt]) {
      const { onAttempt, records } = recorder();
      const stream = streamChat([spec], {
        system: "Be brief.",
        messages: [{ role: "user", content: QUESTION }],
      }, {
        onAttempt,
      });
      const { events, text, error } = await drain(stream);
      assert.equal(error, undefined);
      assert.equal(text, `Reply from ${spec.providerModel}: ${QUESTION}`);
      assert.equal(stream.model?.alias, spec.alias);
      const finish = finishOf(events);
      assert.equal(finish.reason, "stop");
      assert.equal(
        finish.usage.outputTokens,
        text.split(" ").length,
        "the fakes count one token per word",
      );
      assert.equal(records.length, 1);
      assert.equal(records[0].status, "ok");
      assert.deepEqual(records[0].usage, finish.usage);
      assert.ok(records[0].ttftMs !== null && records[0].ttftMs <= records[0].latencyMs);
      results.push(types(events));
    }
    assert.deepEqual(results[0], results[1]);
    assert.deepEqual(results[0], [...Array(6).fill("text"), "finish"]);
  },
);

llmTest("usage is normalized: cached reads, cache writes, reasoning", async ({ claude, gpt }) => {
  const usage = {
    input_tokens: 100,
    output_tokens: 7,
    cached_tokens: 30,
    cache_creation_tokens: 20,
    reasoning_tokens: 3,
  };
  const finishUsage = async (spec: typeof claude) => {
    const { events } = await drain(
      streamChat([spec], { messages: [{ role: "user", content: scripted("hi", { usage }) }] }),
    );
    return finishOf(events).usage;
  };
  // Anthropic's input_tokens already exclude cache reads and writes; it has no reasoning breakdown here.
  assert.deepEqual(await finishUsage(claude), {
    inputTokens: 100,
    outputTokens: 7,
    cachedReadTokens: 30,
    cacheWriteTokens: 20,
    reasoningTokens: 0,
  });
  // OpenAI's prompt_tokens include the cached ones.
  assert.deepEqual(await finishUsage(gpt), {
    inputTokens: 70,
    outputTokens: 7,
    cachedReadTokens: 30,
    cacheWriteTokens: 0,
    reasoningTokens: 3,
  });
});

llmTest("max output tokens finish with reason length on both", async ({ claude, gpt }) => {
  for (const spec of [claude, gpt]) {
    const { events, text } = await drain(
      streamChat([spec], { messages: [{ role: "user", content: QUESTION }], maxOutputTokens: 2 }),
    );
    assert.equal(text, "Reply from ");
    assert.equal(finishOf(events).reason, "length");
    assert.equal(finishOf(events).usage.outputTokens, 2);
  }
});

llmTest("tool calls stream and their history round-trips on both providers", async (fakes) => {
  const tools = [{
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } } },
  }];
  for (
    const [spec, url, id] of [[fakes.claude, fakes.anthropicUrl, "toolu_1"], [
      fakes.gpt,
      fakes.openaiUrl,
      "call_1",
    ]] as const
  ) {
    const script = {
      text: "Checking.",
      tool_calls: [{ id, name: "get_weather", arguments: { city: "Paris" } }],
    };
    const question = "Weather in Paris?";
    const first = await drain(
      streamChat([spec], {
        messages: [{ role: "user", content: scripted(question, script) }],
        tools,
      }),
    );
    assert.equal(first.error, undefined);
    assert.equal(first.text, "Checking.");
    const start = first.events.findIndex((e) => e.type === "tool_call_start");
    assert.deepEqual(first.events[start], { type: "tool_call_start", id, name: "get_weather" });
    const deltas = first.events.flatMap((e) => e.type === "tool_call_delta" ? [e] : []);
    assert.ok(deltas.length > 1, "arguments arrive in fragments");
    assert.ok(deltas.every((d) => d.id === id));
    assert.deepEqual(JSON.parse(deltas.map((d) => d.delta).join("")), { city: "Paris" });
    assert.deepEqual(first.events.find((e) => e.type === "tool_call"), {
      type: "tool_call",
      id,
      name: "get_weather",
      input: { city: "Paris" },
    });
    assert.equal(finishOf(first.events).reason, "tool-calls");

    // Second turn: the tool call and its result go back to the provider.
    const history: LlmMessage[] = [
      { role: "user", content: question },
      {
        role: "assistant",
        content: [{ type: "text", text: "Checking." }, {
          type: "tool_call",
          id,
          name: "get_weather",
          input: { city: "Paris" },
        }],
      },
      {
        role: "tool",
        content: [{
          type: "tool_result",
          toolCallId: id,
          output: { temp: 21, marker: "sunny-42" },
        }],
      },
    ];
    const second = await drain(streamChat([spec], { messages: history, tools }));
    assert.equal(second.error, undefined);
    assert.ok(second.text.startsWith(`Reply from ${spec.providerModel}`));
    const logged = await requestLog(url, "sunny-42");
    assert.deepEqual(logged.map((r) => r.status), [200]);
  }
});

llmTest(
  "the wire format: tool history, prompt caching, thinking and reasoning effort",
  async (fakes) => {
    const anthropicProxy = captureProxy(fakes.anthropicUrl);
    const openaiProxy = captureProxy(fakes.openaiUrl);
    try {
      const req = {
        system: "You are Aide.",
        messages: [
          { role: "user", content: "Weather?" },
          {
            role: "assistant",
            content: [{
              type: "tool_call",
              id: "t1",
              name: "get_weather",
              input: { city: "Oslo" },
            }],
          },
          {
            role: "tool",
            content: [{ type: "tool_result", toolCallId: "t1", output: "rain", isError: true }],
          },
        ] satisfies LlmMessage[],
        tools: [
          { name: "a", description: "A", parameters: { type: "object" } },
          { name: "get_weather", description: "W", parameters: { type: "object" } },
        ],
        cacheSystemPrompt: true,
        temperature: 0.3,
        reasoning: { budgetTokens: 1024, effort: "low" as const },
      };
      const reasoning = { tools: true, reasoning: true };
      await drain(
        streamChat([anthropicSpec(anthropicProxy.url, { capabilities: reasoning })], req),
      );
      await drain(
        streamChat([openaiSpec(`${openaiProxy.url}/v1`, { capabilities: reasoning })], req),
      );

      const a = anthropicProxy.bodies[0];
      assert.equal(a.model, CLAUDE);
      assert.equal(a.stream, true);
      assert.equal(a.max_tokens, 4096);
      assert.deepEqual(a.system, [{
        type: "text",
        text: "You are Aide.",
        cache_control: { type: "ephemeral" },
      }]);
      assert.deepEqual(
        (a.tools as unknown[]).map((t) => (t as { cache_control?: unknown }).cache_control),
        [
          undefined,
          { type: "ephemeral" },
        ],
      );
      assert.deepEqual(a.thinking, { type: "enabled", budget_tokens: 1024 });
      assert.equal(a.temperature, undefined, "thinking requires the default temperature");
      assert.deepEqual(a.messages, [
        { role: "user", content: [{ type: "text", text: "Weather?" }] },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "t1", name: "get_weather", input: { city: "Oslo" } }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t1", content: "rain", is_error: true }],
        },
      ]);

      const o = openaiProxy.bodies[0];
      assert.equal(o.model, GPT);
      assert.deepEqual(o.stream_options, { include_usage: true });
      assert.equal(o.max_completion_tokens, 4096);
      assert.equal(o.reasoning_effort, "low");
      assert.equal(o.temperature, 0.3);
      assert.deepEqual(o.messages, [
        { role: "system", content: "You are Aide." },
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "t1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
          }],
        },
        { role: "tool", tool_call_id: "t1", content: "Error: rain" },
      ]);
      assert.deepEqual((o.tools as { function: { name: string } }[]).map((t) => t.function.name), [
        "a",
        "get_weather",
      ]);

      // Without the reasoning capability, neither thinking nor reasoning_effort is sent.
      await drain(streamChat([anthropicSpec(anthropicProxy.url)], req));
      await drain(streamChat([openaiSpec(`${openaiProxy.url}/v1`)], req));
      assert.equal(anthropicProxy.bodies[1].thinking, undefined);
      assert.equal(anthropicProxy.bodies[1].temperature, 0.3);
      assert.equal(openaiProxy.bodies[1].reasoning_effort, undefined);
    } finally {
      await anthropicProxy.close();
      await openaiProxy.close();
    }
  },
);

llmTest(
  "reasoning: Anthropic thinking with a budget, OpenAI-compatible reasoning_content",
  async (fakes) => {
    const script = { reasoning: "Let me think about it", text: "Done." };
    const ask = (spec: typeof fakes.claude, budgetTokens?: number) =>
      drain(streamChat([spec], {
        messages: [{ role: "user", content: scripted("Think", script) }],
        reasoning: { budgetTokens, effort: "high" },
      }));
    const reasoningOf = (events: LlmEvent[]) =>
      events.map((e) => e.type === "reasoning" ? e.delta : "").join("");

    const claude = anthropicSpec(fakes.anthropicUrl, { capabilities: { reasoning: true } });
    const thought = await ask(claude, 2048);
    assert.equal(reasoningOf(thought.events), "Let me think about it");
    assert.equal(thought.text, "Done.");
    const kinds = types(thought.events);
    assert.ok(kinds.lastIndexOf("reasoning") < kinds.indexOf("text"), "reasoning comes first");

    // No budget (or no capability): no thinking requested, none streamed.
    assert.equal(reasoningOf((await ask(claude)).events), "");
    assert.equal(reasoningOf((await ask(fakes.claude, 2048)).events), "");

    const compatible = openaiSpec(fakes.openaiUrl, {
      provider: "openai_compatible",
      capabilities: { reasoning: true },
    });
    const r = await ask(compatible);
    assert.equal(reasoningOf(r.events), "Let me think about it");
    assert.equal(finishOf(r.events).usage.reasoningTokens, 5);
  },
);
