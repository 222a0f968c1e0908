// streamChat: one streamed reply from the first model of a chain that can give it.
//
// The product rule: retries (exponential backoff with jitter, honouring Retry-After) and then
// fallback to the next model happen ONLY before the first token (text, reasoning or tool event)
// has reached the caller. After that, a failure is thrown as an LlmError with
// `afterFirstToken: true` and the caller keeps the partial reply: replaying the request would
// show the user a second, different beginning.
//
// What moves on and what stops, before the first token:
// - retryable kinds (rate_limited, overloaded, server_error, timeout, network): retry the same
//   model up to `maxRetriesPerModel` times, then fall back to the next model;
// - authentication and not_configured (bad or missing key, unknown model at that endpoint):
//   no retry, fall back at once: the next model may use another provider or key;
// - invalid_request and invalid_output: thrown at once. The request itself is wrong, so another
//   model would most likely reject it too, and a fallback would hide our bug;
// - aborted: thrown at once.
//
// Each attempt uses its own model's limits and capabilities: the output cap is the smaller of
// the request's and the model's, and a model without tools (or reasoning) gets none, so a
// fallback with a smaller cap does not fail with invalid_request exactly when it is needed.
// A model that cannot read a file the request carries (an image without `vision`, a PDF
// without `pdf`) is skipped; if no model of the chain can, that is an invalid_request.
import { streamAnthropic } from "./anthropic.ts";
import { type Adapter, emptyUsage, estimateFileTokens, readsFile } from "./common.ts";
import { LlmError, TIMEOUT_REASON, toLlmError } from "./errors.ts";
import { streamOpenAI } from "./openai.ts";
import type { ChatRequest, LlmErrorKind, LlmEvent, ModelSpec, Provider, Usage } from "./types.ts";

/** An attempt about to be sent, so that it can be recorded before any token is billed. */
export interface AttemptStart {
  /** Shared with the attempt's AttemptRecord. */
  callId: string;
  model: string;
  providerModel: string;
  provider: Provider;
  attempt: number;
  /** About 4 characters a token, over everything sent. */
  estimatedInputTokens: number;
}

/** One request to one model, as the usage ledger records it. */
export interface AttemptRecord {
  /** Shared with the attempt's AttemptStart. */
  callId: string;
  /** Our alias. */
  model: string;
  providerModel: string;
  provider: Provider;
  /** 1-based, counted across the whole chain. */
  attempt: number;
  /** "aborted": cancelled through `req.signal`, or the caller stopped reading. */
  status: "ok" | "error" | "aborted";
  errorKind?: LlmErrorKind;
  errorMessage?: string;
  /** What the provider reported, even for failed or aborted attempts (zeros if nothing). */
  usage: Usage;
  startedAt: string;
  latencyMs: number;
  /** Time to the first text, reasoning or tool event; null if there was none. */
  ttftMs: number | null;
}

export interface RetryPolicy {
  maxRetriesPerModel: number;
  baseDelayMs: number;
  /** Cap for backoff delays and for Retry-After. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetriesPerModel: 2,
  baseDelayMs: 500,
  maxDelayMs: 8000,
};

export interface StreamOptions {
  /** Awaited before each attempt is sent (a failure is ignored: the attempt goes ahead). */
  onAttemptStart?: (start: AttemptStart) => Promise<void> | void;
  /** Called exactly once per attempt, when it ends. Must not throw. */
  onAttempt?: (record: AttemptRecord) => void;
  retry?: Partial<RetryPolicy>;
}

/** Problems of one provider's setup, which the next model in the chain may not have. */
const FALL_BACK_AT_ONCE = new Set<LlmErrorKind>(["authentication", "not_configured"]);

const ADAPTERS: Record<Provider, Adapter> = {
  anthropic: streamAnthropic,
  openai: streamOpenAI,
  openai_compatible: streamOpenAI,
};

/** The events of one reply. Iterate it once; `model` tells which model of the chain served. */
export class ChatStream implements AsyncIterable<LlmEvent> {
  /** The model whose reply is being streamed; set with its first event. */
  model: ModelSpec | undefined;
  #started = false;

  constructor(
    private readonly chain: ModelSpec[],
    private readonly req: ChatRequest,
    private readonly opts: StreamOptions,
  ) {
    if (chain.length === 0) throw new TypeError("streamChat: the model chain is empty");
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<LlmEvent> {
    if (this.#started) throw new Error("a ChatStream can only be iterated once");
    this.#started = true;
    const policy = { ...DEFAULT_RETRY, ...this.opts.retry };
    let attempt = 0;
    let lastError: LlmError | undefined;
    const chain = this.chain.filter((spec) => readsFiles(spec, this.req));
    if (chain.length === 0) {
      const first = this.chain[0];
      throw new LlmError(
        "invalid_request",
        "no model of the chain reads the attached files",
        first.provider,
        first.alias,
      );
    }

    for (const spec of chain) {
      for (let retry = 0;; retry++) {
        try {
          for await (const event of runAttempt(spec, ++attempt, this.req, this.opts)) {
            this.model = spec;
            yield event;
          }
          return;
        } catch (err) {
          if (!(err instanceof LlmError)) throw err;
          if (err.afterFirstToken || err.kind === "aborted") throw err;
          lastError = err;
          if (err.retryable && retry < policy.maxRetriesPerModel) {
            await sleep(backoffMs(err, retry, policy), this.req.signal, err);
            continue;
          }
          if (err.retryable || FALL_BACK_AT_ONCE.has(err.kind)) break;
          throw err;
        }
      }
    }
    throw lastError;
  }
}

export function streamChat(
  chain: ModelSpec[],
  req: ChatRequest,
  opts: StreamOptions = {},
): ChatStream {
  return new ChatStream(chain, req, opts);
}

/**
 * One request: its own abort controller (for `req.timeoutMs` and `req.signal`), and exactly one
 * AttemptRecord however it ends, including when the consumer stops iterating.
 */
async function* runAttempt(
  spec: ModelSpec,
  attempt: number,
  shared: ChatRequest,
  { onAttempt, onAttemptStart }: StreamOptions,
): AsyncGenerator<LlmEvent> {
  const req = forModel(spec, shared);
  if (req.signal?.aborted) {
    throw new LlmError("aborted", "request aborted", spec.provider, spec.alias);
  }
  const callId = crypto.randomUUID();
  await Promise.resolve(
    onAttemptStart?.({
      callId,
      model: spec.alias,
      providerModel: spec.providerModel,
      provider: spec.provider,
      attempt,
      estimatedInputTokens: estimateInputTokens(req),
    }),
  ).catch(() => {});
  const controller = new AbortController();
  const cancel = () => controller.abort(req.signal?.reason);
  req.signal?.addEventListener("abort", cancel, { once: true });
  const timer = req.timeoutMs
    ? setTimeout(() => controller.abort(TIMEOUT_REASON), req.timeoutMs)
    : undefined;
  const startedAt = new Date();
  const started = performance.now();
  const usage = emptyUsage();
  let ttftMs: number | null = null;
  let status: AttemptRecord["status"] = "aborted"; // unless it completes or fails first
  let error: LlmError | undefined;

  try {
    for await (const event of ADAPTERS[spec.provider](spec, req, controller.signal, usage)) {
      // Complete once the finish is out, even if the consumer stops reading right after it.
      if (event.type === "finish") status = "ok";
      else if (ttftMs === null) ttftMs = Math.round(performance.now() - started);
      yield event;
    }
  } catch (err) {
    error = toLlmError(err, { provider: spec.provider, model: spec.alias }, {
      signal: controller.signal,
      afterFirstToken: ttftMs !== null,
    });
    status = error.kind === "aborted" ? "aborted" : "error";
    throw error;
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener("abort", cancel);
    controller.abort(); // releases the connection if the consumer stopped early
    onAttempt?.({
      callId,
      model: spec.alias,
      providerModel: spec.providerModel,
      provider: spec.provider,
      attempt,
      status,
      errorKind: error?.kind,
      errorMessage: error?.message,
      usage: { ...usage },
      startedAt: startedAt.toISOString(),
      latencyMs: Math.round(performance.now() - started),
      ttftMs,
    });
  }
}

/** The request as `spec` may receive it: within its output cap, without what it cannot do. */
function forModel(spec: ModelSpec, req: ChatRequest): ChatRequest {
  const can = spec.capabilities ?? {};
  return {
    ...req,
    maxOutputTokens: Math.min(req.maxOutputTokens ?? spec.maxOutputTokens, spec.maxOutputTokens),
    tools: can.tools === false ? undefined : req.tools,
    reasoning: can.reasoning === false ? undefined : req.reasoning,
  };
}

const filesOf = (req: ChatRequest) =>
  req.messages.flatMap((m) =>
    typeof m.content === "string" ? [] : m.content.filter((p) => p.type === "file")
  );

/** Whether `spec` reads every file of the request. */
const readsFiles = (spec: ModelSpec, req: ChatRequest) =>
  filesOf(req).every((f) => readsFile(spec, f.mediaType));

/** Everything sent, at about 4 characters a token (files by their own rule): to bill a call cut short. */
function estimateInputTokens(req: ChatRequest): number {
  let fileTokens = 0;
  const messages = JSON.stringify(req.messages, (_key, value) => {
    if (value?.type !== "file" || typeof value.data !== "string") return value;
    fileTokens += estimateFileTokens(value.mediaType, (value.data.length * 3) / 4);
    return { ...value, data: "" };
  });
  const sent = (req.system ?? "").length + messages.length +
    (req.tools ? JSON.stringify(req.tools).length : 0);
  return Math.ceil(sent / 4) + fileTokens;
}

/** Retry-After if the provider sent one, else exponential backoff with jitter; both capped. */
export function backoffMs(err: LlmError, retry: number, policy: RetryPolicy): number {
  const backoff = policy.baseDelayMs * 2 ** retry * (0.5 + Math.random() / 2);
  return Math.min(err.retryAfterMs ?? backoff, policy.maxDelayMs);
}

/** Waits `ms`; an abort of `signal` ends the wait at once with an `aborted` LlmError. */
export function sleep(
  ms: number,
  signal: AbortSignal | undefined,
  target: { provider: Provider; model: string },
): Promise<void> {
  const aborted = () => new LlmError("aborted", "request aborted", target.provider, target.model);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
