/**
 * Native structured output (OpenAI response_format json_schema, Anthropic forced tool use) and
 * the fakes answering it with JSON built from the prompt; scripts can still break it.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { generateObject, LlmError } from "../../supabase/functions/_shared/llm/index.ts";
import {
  anthropicSpec,
  captureProxy,
  llmTest,
  openaiSpec,
  queueScript,
  recorder,
} from "./helpers.ts";

const E1 = "6f0c1a52-4a4b-4c39-9a53-0c6f3e2a9b01";
const E2 = "0d7b9e55-1f1a-4a8e-8a41-6a1f0b6b4c02";
const PROMPT = [
  "Events:",
  `- id=${E1} source=slack at=2026-12-01T09:30:00Z "Can you review the launch plan by Friday?"`,
  `- id=${E2} source=outlook at=2026-12-01T10:05:00Z "Invoice 4411 is overdue"`,
].join("\n");

const Summary = z.strictObject({
  overview: z.string().min(1),
  key_events: z.array(z.strictObject({
    event_id: z.uuid(),
    source: z.enum(["slack", "outlook", "telegram"]),
    title: z.string(),
    timestamp: z.iso.datetime({ offset: true }),
  })).max(10),
  themes: z.array(z.string()).max(5),
});

const Intent = z.strictObject({
  intent: z.enum(["summarize", "task_detection", "search", "chat"]).describe(
    "summarize: recap what happened, summary, catch up; task_detection: what needs action, todo, reply, follow up; search: find, look up, where; chat: anything else",
  ),
});

const ask = (content: string) => ({ messages: [{ role: "user" as const, content }] });
const ids = (o: z.infer<typeof Summary>) =>
  o.key_events.map((e) => [e.event_id, e.source, e.timestamp]);

llmTest("OpenAI: response_format json_schema, answered from the prompt", async ({ openaiUrl }) => {
  const proxy = captureProxy(openaiUrl);
  try {
    const gpt = openaiSpec(`${proxy.url}/v1`);
    const result = await generateObject([gpt], ask(PROMPT), Summary, { name: "summary" });
    assert.deepEqual(ids(result.object), [
      [E1, "slack", "2026-12-01T09:30:00Z"],
      [E2, "outlook", "2026-12-01T10:05:00Z"],
    ]);
    assert.equal(result.rounds, 1);
    const format = proxy.bodies[0].response_format as Record<string, any>;
    assert.equal(format.type, "json_schema");
    assert.equal(format.json_schema.name, "summary");
    assert.equal(
      format.json_schema.strict,
      true,
      "a closed schema with all fields required is strict",
    );
    assert.deepEqual(format.json_schema.schema.required, ["overview", "key_events", "themes"]);
  } finally {
    await proxy.close();
  }
});

llmTest("Anthropic: a forced tool whose input is the object", async ({ anthropicUrl }) => {
  const proxy = captureProxy(anthropicUrl);
  try {
    const claude = anthropicSpec(proxy.url);
    const result = await generateObject([claude], ask(PROMPT), Summary, { name: "summary" });
    assert.deepEqual(ids(result.object), [
      [E1, "slack", "2026-12-01T09:30:00Z"],
      [E2, "outlook", "2026-12-01T10:05:00Z"],
    ]);
    const body = proxy.bodies[0] as Record<string, any>;
    assert.deepEqual(body.tool_choice, { type: "tool", name: "summary" });
    assert.equal(body.tools.at(-1).name, "summary");
    assert.deepEqual(body.tools.at(-1).input_schema.required, ["overview", "key_events", "themes"]);
  } finally {
    await proxy.close();
  }
});

llmTest("the fakes pick the enum value the prompt names", async ({ claude, gpt }) => {
  for (const spec of [claude, gpt]) {
    const pick = async (text: string) =>
      (await generateObject([spec], ask(text), Intent)).object.intent;
    assert.equal(await pick("summarize last 2 hours"), "summarize");
    assert.equal(await pick("what needs action?"), "task_detection");
    assert.equal(await pick("find the invoice from Acme"), "search");
    assert.equal(await pick("hello there"), "summarize", "nothing named: the first value");
  }
});

llmTest(
  "invented ids fail the caller's check and are asked again; the repair is answered",
  async ({ claude, gpt, anthropicUrl, openaiUrl }) => {
    for (const [spec, url] of [[claude, anthropicUrl], [gpt, openaiUrl]] as const) {
      await queueScript(url, { script: { invent_ids: 1 } });
      const allowed = new Set([E1, E2]);
      const { onAttempt, records } = recorder();
      const result = await generateObject([spec], ask(PROMPT), Summary, {
        onAttempt,
        check: (o) =>
          o.key_events.filter((e) => !allowed.has(e.event_id)).map((e) =>
            `key_events: ${e.event_id} is not one of the events given`
          ),
      });
      assert.equal(result.rounds, 2, spec.alias);
      assert.equal(records.length, 2);
      assert.ok(result.object.key_events.every((e) => allowed.has(e.event_id)));
    }
  },
);

llmTest(
  "scripted invalid JSON ends in invalid_output after the repairs",
  async ({ gpt, openaiUrl }) => {
    await queueScript(openaiUrl, { script: { text: "{not json" }, times: 3 });
    await assert.rejects(
      generateObject([gpt], ask(PROMPT), Summary, { maxRepairs: 2 }),
      (err: LlmError) => err.kind === "invalid_output",
    );
  },
);
