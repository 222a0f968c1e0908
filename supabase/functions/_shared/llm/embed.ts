// Embeddings through the openai SDK (OpenAI or any OpenAI-compatible /embeddings endpoint),
// in batches, order preserved, with the same retry policy as chat.
import { openaiClient } from "./clients.ts";
import { LlmError, toLlmError } from "./errors.ts";
import { backoffMs, DEFAULT_RETRY, type RetryPolicy, sleep } from "./stream.ts";

export interface EmbedOptions {
  model?: string;
  /** Must match the vector column the embeddings are stored in. */
  dimensions?: number;
  batchSize?: number;
  /** Default: OPENAI_BASE_URL, else OpenAI. */
  baseUrl?: string;
  /** Default: OPENAI_API_KEY. */
  apiKeyEnv?: string;
  signal?: AbortSignal;
  /** Each batch is retried `maxRetriesPerModel` times on retryable errors. */
  retry?: Partial<RetryPolicy>;
  /** Awaited before each request (a failure is ignored), so it can be metered before it is billed. */
  onCallStart?: (
    start: { callId: string; model: string; estimatedInputTokens: number },
  ) => Promise<void> | void;
  /** Called after each successful request, so callers can meter batches even if a later one fails. */
  onCall?: (call: EmbedCall) => void;
  /** Called after each failed request (nothing was billed for it). */
  onCallFailed?: (failed: { callId: string; model: string; error: LlmError }) => void;
}

/** One successful embeddings request, for metering. */
export interface EmbedCall {
  /** The id onCallStart was given. */
  callId: string;
  model: string;
  inputs: number;
  inputTokens: number;
  startedAt: string;
  latencyMs: number;
}

export interface EmbedResult {
  vectors: number[][];
  usage: { inputTokens: number };
  calls: EmbedCall[];
}

export async function embed(texts: string[], opts: EmbedOptions = {}): Promise<EmbedResult> {
  const { model = "text-embedding-3-small", dimensions = 1536, batchSize = 96, signal } = opts;
  const target = { provider: "openai" as const, model };
  const policy = { ...DEFAULT_RETRY, ...opts.retry };
  const client = openaiClient({
    provider: "openai",
    alias: model,
    baseUrl: opts.baseUrl,
    apiKeyEnv: opts.apiKeyEnv,
  });
  const result: EmbedResult = { vectors: [], usage: { inputTokens: 0 }, calls: [] };

  for (let i = 0; i < texts.length; i += batchSize) {
    const input = texts.slice(i, i + batchSize);
    for (let retry = 0;; retry++) {
      const callId = crypto.randomUUID();
      await Promise.resolve(
        opts.onCallStart?.({
          callId,
          model,
          estimatedInputTokens: Math.ceil(input.reduce((n, t) => n + t.length, 0) / 4),
        }),
      ).catch(() => {});
      const startedAt = new Date();
      const started = performance.now();
      try {
        const res = await client.embeddings.create({ model, input, dimensions }, { signal });
        // Providers may return the batch out of order; `index` is authoritative.
        const vectors = [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
        if (vectors.length !== input.length || vectors.some((v) => v.length !== dimensions)) {
          throw new LlmError(
            "invalid_output",
            `expected ${input.length} vectors of ${dimensions} dimensions`,
            target.provider,
            model,
          );
        }
        result.vectors.push(...vectors);
        result.usage.inputTokens += res.usage.prompt_tokens;
        const call = {
          callId,
          model,
          inputs: input.length,
          inputTokens: res.usage.prompt_tokens,
          startedAt: startedAt.toISOString(),
          latencyMs: Math.round(performance.now() - started),
        };
        result.calls.push(call);
        opts.onCall?.(call);
        break;
      } catch (err) {
        const error = toLlmError(err, target, { signal });
        opts.onCallFailed?.({ callId, model, error });
        if (!error.retryable || retry >= policy.maxRetriesPerModel) throw error;
        await sleep(backoffMs(error, retry, policy), signal, target);
      }
    }
  }
  return result;
}
