// LlmError: the one error type the LLM layer throws, whatever SDK failed underneath, so callers
// branch on `kind` instead of on two SDKs' class hierarchies.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { LlmErrorKind, Provider } from "./types.ts";

const RETRYABLE = new Set<LlmErrorKind>([
  "rate_limited",
  "overloaded",
  "server_error",
  "timeout",
  "network",
]);

export interface LlmErrorOptions {
  status?: number;
  /** The provider asked us to wait this long before retrying (Retry-After). */
  retryAfterMs?: number;
  /** The failure came after the first token reached the caller: no retry, no fallback. */
  afterFirstToken?: boolean;
  /** For `invalid_output`: what was wrong with the model's last reply. */
  issues?: unknown[];
}

export class LlmError extends Error {
  override readonly name = "LlmError";
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  afterFirstToken: boolean;
  readonly issues?: unknown[];

  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly provider: Provider,
    /** Our alias for chat models, the provider's name for embedding models. */
    readonly model: string,
    opts: LlmErrorOptions = {},
  ) {
    super(`[${provider} ${model}] ${redact(message)}`);
    this.retryable = RETRYABLE.has(kind);
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.afterFirstToken = opts.afterFirstToken ?? false;
    this.issues = opts.issues;
  }
}

/** Marks why our own per-attempt controller aborted, to tell timeouts from cancellations. */
export const TIMEOUT_REASON = new DOMException("attempt timed out", "TimeoutError");

/**
 * Maps anything an SDK call threw to an LlmError. Our own abort signal is checked first: both
 * SDKs end a stream quietly (or throw APIUserAbortError) when the signal fires, so the signal's
 * reason is the only reliable way to tell a timeout from a cancellation.
 */
export function toLlmError(
  err: unknown,
  target: { provider: Provider; model: string },
  ctx: { signal?: AbortSignal; afterFirstToken?: boolean } = {},
): LlmError {
  const { provider, model } = target;
  const make = (kind: LlmErrorKind, message: string, opts: LlmErrorOptions = {}) =>
    new LlmError(kind, message, provider, model, { ...opts, afterFirstToken: ctx.afterFirstToken });

  if (ctx.signal?.aborted) {
    return ctx.signal.reason === TIMEOUT_REASON
      ? make("timeout", "no complete reply within the attempt's timeout")
      : make("aborted", "request aborted");
  }
  if (err instanceof LlmError) {
    if (ctx.afterFirstToken) err.afterFirstToken = true;
    return err;
  }
  if (err instanceof OpenAI.APIError || err instanceof Anthropic.APIError) {
    if (err instanceof OpenAI.APIUserAbortError || err instanceof Anthropic.APIUserAbortError) {
      return make("aborted", err.message);
    }
    if (
      err instanceof OpenAI.APIConnectionTimeoutError ||
      err instanceof Anthropic.APIConnectionTimeoutError
    ) {
      return make("timeout", err.message);
    }
    if (err instanceof OpenAI.APIConnectionError || err instanceof Anthropic.APIConnectionError) {
      return make("network", err.message);
    }
    if (err.status) {
      return make(kindForStatus(err.status), err.message, {
        status: err.status,
        retryAfterMs: retryAfterMs(err.headers),
      });
    }
    // No status: an error event inside a 200 stream (e.g. Anthropic `overloaded_error`).
    const type = err.type ?? (err.error as { type?: string } | undefined)?.type;
    return make(kindForErrorType(type), err.message);
  }
  // Dropped connections surface as plain fetch body errors (TypeError), not SDK errors.
  return make("network", err instanceof Error ? err.message : String(err));
}

/**
 * 401/402/403 (bad key, billing, permission) and 404 (no such model at this endpoint) are
 * about this provider's setup, not the request, so they map to kinds that may fall back.
 */
function kindForStatus(status: number): LlmErrorKind {
  if (status === 401 || status === 402 || status === 403) return "authentication";
  if (status === 404) return "not_configured";
  if (status === 408) return "timeout";
  if (status === 429) return "rate_limited";
  if (status === 503 || status === 529) return "overloaded";
  if (status === 409 || status >= 500) return "server_error";
  return "invalid_request";
}

function kindForErrorType(type: string | null | undefined): LlmErrorKind {
  switch (type) {
    case "overloaded_error":
      return "overloaded";
    case "rate_limit_error":
    case "rate_limit_exceeded":
    case "requests":
    case "tokens":
      return "rate_limited";
    case "timeout_error":
      return "timeout";
    case "invalid_request_error":
      return "invalid_request";
    case "authentication_error":
    case "permission_error":
    case "billing_error":
      return "authentication";
    default:
      return "server_error";
  }
}

/** `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get("retry-after-ms") ?? NaN);
  if (ms >= 0) return ms;
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Providers echo (masked) keys in 401 messages; strip anything key-shaped. */
function redact(message: string): string {
  return message.replace(/\b(sk|key)[-_][\w*-]{6,}/gi, "[redacted]");
}
