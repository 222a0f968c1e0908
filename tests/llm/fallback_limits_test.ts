// Each attempt of a chain uses its own model's limits and capabilities: a fallback with a smaller
// output cap is asked for no more than it can give, and one without tools is sent none.
import assert from "node:assert/strict";
import { streamChat } from "../../supabase/functions/_shared/llm/index.ts";
import {
  anthropicSpec,
  captureProxy,
  CLAUDE,
  drain,
  FAST,
  GPT,
  llmTest,
  openaiSpec,
  queueScript,
} from "./helpers.ts";

const lookup = {
  name: "lookup",
  description: "Looks a word up",
  parameters: { type: "object", properties: { word: { type: "string" } } },
};

llmTest(
  "a fallback gets its own output cap and capabilities, not the first model's",
  async ({ anthropicUrl, openaiUrl }) => {
    const proxy = captureProxy(new URL(openaiUrl).origin);
    try {
      const first = anthropicSpec(anthropicUrl, {
        maxOutputTokens: 8000,
        capabilities: { tools: true, reasoning: true },
      });
      const fallback = openaiSpec(`${proxy.url}/v1`, {
        maxOutputTokens: 100,
        capabilities: { tools: false, reasoning: false },
      });
      await queueScript(anthropicUrl, {
        script: { status: 500 },
        match: { model: CLAUDE },
        times: 3,
      });
      const { error, text } = await drain(streamChat([first, fallback], {
        messages: [{ role: "user", content: "hello" }],
        tools: [lookup],
        maxOutputTokens: 8000,
      }, { retry: FAST }));
      assert.equal(error, undefined);
      assert.equal(text, `Reply from ${GPT}: hello`);
      const sent = proxy.bodies.find((b) => b.model === GPT)!;
      assert.equal(sent.max_completion_tokens ?? sent.max_tokens, 100);
      assert.equal(sent.tools, undefined, "tools were sent to a model without tools");

      // A model with room keeps the request's own, smaller cap.
      const roomy = openaiSpec(`${proxy.url}/v1`, { maxOutputTokens: 4096 });
      await drain(
        streamChat([roomy], {
          messages: [{ role: "user", content: "again" }],
          maxOutputTokens: 512,
        }),
      );
      assert.equal(proxy.bodies.at(-1)!.max_completion_tokens, 512);
    } finally {
      await proxy.close();
    }
  },
);

llmTest(
  "every attempt is announced before it is sent, with the call id its record carries",
  async ({ gpt, openaiUrl }) => {
    await queueScript(openaiUrl, { script: { status: 500 }, match: { model: GPT }, times: 1 });
    const starts: { callId: string; attempt: number; estimatedInputTokens: number }[] = [];
    const records: { callId: string; attempt: number }[] = [];
    await drain(streamChat([gpt], { messages: [{ role: "user", content: "x".repeat(400) }] }, {
      retry: FAST,
      onAttemptStart: (s) => void starts.push(s),
      onAttempt: (r) => void records.push(r),
    }));
    assert.deepEqual(starts.map((s) => s.attempt), [1, 2]);
    assert.deepEqual(records.map((r) => r.callId), starts.map((s) => s.callId));
    assert.ok(starts[0].estimatedInputTokens >= 100, `estimate ${starts[0].estimatedInputTokens}`);
  },
);
