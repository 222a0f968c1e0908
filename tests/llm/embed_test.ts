/** embed(): batching, order, dimensions, usage, retries and configuration. */
import assert from "node:assert/strict";
import { fakeEmbedding } from "../../local/fakes/openai.ts";
import { embed, LlmError } from "../../supabase/functions/_shared/llm/index.ts";
import { FAST, KEY_ENV, llmTest, queueScript, requestLog } from "./helpers.ts";

const TEXTS = ["the cat sat", "on the mat", "quantum notes", "a dog barked", "rain in Oslo"];

llmTest("embed batches, keeps order and returns the provider's vectors", async ({ openaiUrl }) => {
  const result = await embed(TEXTS, {
    baseUrl: openaiUrl,
    apiKeyEnv: KEY_ENV,
    batchSize: 2,
    dimensions: 64,
  });
  assert.deepEqual(result.vectors, TEXTS.map((t) => fakeEmbedding(t, 64)));
  assert.deepEqual(result.calls.map((c) => [c.model, c.inputs]), [
    ["text-embedding-3-small", 2],
    ["text-embedding-3-small", 2],
    ["text-embedding-3-small", 1],
  ]);
  const tokens = TEXTS.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
  assert.equal(result.usage.inputTokens, tokens);
  assert.equal(result.calls.reduce((n, c) => n + c.inputTokens, 0), tokens);
  const log = await requestLog(openaiUrl);
  assert.deepEqual(log.map((r) => [r.path, r.last_user_text]), [
    ["/v1/embeddings", "the cat sat"],
    ["/v1/embeddings", "quantum notes"],
    ["/v1/embeddings", "rain in Oslo"],
  ]);
});

llmTest("embed defaults to 1536 dimensions; a 429 batch is retried", async ({ openaiUrl }) => {
  await queueScript(openaiUrl, {
    script: { status: 429 },
    match: { model: "text-embedding-3-small" },
  });
  const result = await embed(["hello world"], {
    baseUrl: openaiUrl,
    apiKeyEnv: KEY_ENV,
    retry: FAST,
  });
  assert.equal(result.vectors[0].length, 1536);
  assert.deepEqual(result.vectors[0], fakeEmbedding("hello world"));
  assert.deepEqual((await requestLog(openaiUrl)).map((r) => r.status), [429, 200]);
  assert.equal(result.calls.length, 1);
});

llmTest("embed errors: not configured, and non-retryable failures", async ({ openaiUrl }) => {
  const missing = await embed(["x"], { baseUrl: openaiUrl, apiKeyEnv: "AIDE_LLM_TEST_UNSET_KEY" })
    .catch((e) => e);
  assert.ok(missing instanceof LlmError);
  assert.equal(missing.kind, "not_configured");

  await queueScript(openaiUrl, { script: { status: 400 } });
  const invalid = await embed(["x"], { baseUrl: openaiUrl, apiKeyEnv: KEY_ENV, retry: FAST })
    .catch((e) => e);
  assert.ok(invalid instanceof LlmError);
  assert.equal(invalid.kind, "invalid_request");
  assert.equal((await requestLog(openaiUrl)).length, 1);
});
