/** generateText and generateObject (structured output with zod, repair rounds). */
import assert from "node:assert/strict";
import { z } from "zod";
import {
  generateObject,
  generateText,
  LlmError,
} from "../../supabase/functions/_shared/llm/index.ts";
import { CLAUDE, llmTest, queueScript, recorder, requestLog, scripted } from "./helpers.ts";

const Title = z.object({ title: z.string().min(1), tags: z.array(z.string()) });
const ask = (content: string) => ({ messages: [{ role: "user" as const, content }] });

llmTest(
  "generateText collects text, tool calls, usage, finish reason and model",
  async ({ claude, gpt }) => {
    const script = {
      text: "Let me look.",
      tool_calls: [{ id: "call_9", name: "search", arguments: { q: "x" } }],
    };
    const result = await generateText([gpt], { ...ask(scripted("find x", script)), tools: [] });
    assert.equal(result.text, "Let me look.");
    assert.deepEqual(result.toolCalls, [{ id: "call_9", name: "search", input: { q: "x" } }]);
    assert.equal(result.finishReason, "tool-calls");
    assert.equal(result.model.alias, "gpt");
    assert.ok(result.usage.outputTokens > 0);

    const { onAttempt, records } = recorder();
    const title = await generateText([claude], ask("Summarize this"), { onAttempt });
    assert.equal(title.text, `Reply from ${CLAUDE}: Summarize this`);
    assert.equal(title.finishReason, "stop");
    assert.deepEqual(records.map((r) => [r.status, r.usage]), [["ok", title.usage]]);
  },
);

llmTest(
  "generateObject: valid JSON the first time, JSON Schema sent",
  async ({ gpt, openaiUrl }) => {
    await queueScript(openaiUrl, {
      script: { text: '{"title": "Trip to Oslo", "tags": ["travel"]}' },
    });
    const { onAttempt, records } = recorder();
    const result = await generateObject([gpt], ask("Name this chat"), Title, { onAttempt });
    assert.deepEqual(result.object, { title: "Trip to Oslo", tags: ["travel"] });
    assert.equal(result.model.alias, "gpt");
    assert.equal(records.length, 1);
    // The system prompt describes the schema.
    const logged = await requestLog(openaiUrl, '"required":["title","tags"]');
    assert.equal(logged.length, 1);
  },
);

llmTest(
  "generateObject: an invalid reply is repaired with the problem fed back",
  async ({ claude, anthropicUrl }) => {
    await queueScript(anthropicUrl, {
      script: { text: "Sure! Here is a title: Trip to Oslo" },
      match: { model: CLAUDE },
    });
    await queueScript(anthropicUrl, {
      script: { text: 'Here you go:\n```json\n{"title": "Trip to Oslo", "tags": []}\n```' },
      match: { model: CLAUDE },
    });
    const { onAttempt, records } = recorder();
    const result = await generateObject([claude], ask("Name this chat"), Title, { onAttempt });
    assert.deepEqual(result.object, { title: "Trip to Oslo", tags: [] });
    assert.deepEqual(records.map((r) => r.status), ["ok", "ok"]);
    const sum = records.reduce((n, r) => n + r.usage.outputTokens, 0);
    assert.equal(result.usage.outputTokens, sum, "usage sums both rounds");
    // The second request carried the bad reply and the parse error.
    const repairs = await requestLog(anthropicUrl, "That reply was not valid");
    assert.equal(repairs.length, 1);
    assert.equal((await requestLog(anthropicUrl, "Sure! Here is a title")).length, 1);
  },
);

llmTest(
  "generateObject: always invalid gives invalid_output after 1 + maxRepairs",
  async ({ gpt, openaiUrl }) => {
    await queueScript(openaiUrl, { script: { text: '{"title": 5}' }, times: 10 });
    const { onAttempt, records } = recorder();
    const error = await generateObject([gpt], ask("Name this chat"), Title, {
      onAttempt,
      maxRepairs: 2,
    })
      .catch((e) => e);
    assert.ok(error instanceof LlmError, `got ${error}`);
    assert.equal(error.kind, "invalid_output");
    assert.equal(error.retryable, false);
    assert.deepEqual(
      (error.issues as { path: string[] }[]).map((i) => i.path.join(".")).sort(),
      ["tags", "title"],
    );
    assert.equal(records.length, 3);
    assert.equal((await requestLog(openaiUrl)).length, 3);
    // The schema problem was fed back by path.
    assert.equal((await requestLog(openaiUrl, "title")).length, 3);
    assert.equal((await requestLog(openaiUrl, "→ at tags")).length, 2);
  },
);
