// Writes provider calls to the usage ledger. Every call is one row, idempotent by call_id; the
// database prices it with the price in effect and adds it to the conversation's totals. A call
// is written when it starts (status "pending", estimated input tokens) and completed when its
// usage arrives, so a function killed mid-call still leaves its bill behind.
import { jsonb, sql } from "../db.ts";
import { log } from "../http.ts";
import type { StreamOptions } from "../llm/stream.ts";
import type { Usage } from "../llm/types.ts";

export interface UsageRow {
  callId?: string;
  requestId?: string;
  userId: string;
  conversationId?: string | null;
  messageId?: string | null;
  product?: string;
  productStep: string;
  provider: string;
  model: string;
  providerModel: string;
  attempt?: number;
  status: "pending" | "ok" | "error" | "aborted";
  /** The tokens are our estimate (the provider did not report them). */
  estimated?: boolean;
  usage: Usage;
  latencyMs?: number;
  ttftMs?: number | null;
  errorType?: string | null;
  errorMessage?: string | null;
}

export async function recordUsage(row: UsageRow): Promise<void> {
  const payload = {
    call_id: row.callId ?? crypto.randomUUID(),
    request_id: row.requestId,
    user_id: row.userId,
    conversation_id: row.conversationId ?? null,
    message_id: row.messageId ?? null,
    product: row.product ?? "chat",
    product_step: row.productStep,
    provider: row.provider,
    model: row.model,
    provider_model: row.providerModel,
    attempt: row.attempt ?? 1,
    status: row.status,
    input_tokens: row.usage.inputTokens,
    output_tokens: row.usage.outputTokens,
    cached_read_tokens: row.usage.cachedReadTokens,
    cache_write_tokens: row.usage.cacheWriteTokens,
    reasoning_tokens: row.usage.reasoningTokens,
    latency_ms: row.latencyMs,
    ttft_ms: row.ttftMs ?? null,
    error_type: row.errorType ?? null,
    error_message: row.errorMessage ?? null,
    estimated: row.estimated ?? false,
  };
  try {
    await sql`select private.record_usage(${jsonb(payload)})`;
  } catch (e) {
    // Metering must not break the reply; the failure is loud in the logs.
    log("error", "usage not recorded", { call_id: payload.call_id, error: String(e) });
  }
}

/** Rough token count for text the provider did not meter (e.g. a stream cut short). */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

/** The usage ledger's side of an LLM call's options: each attempt written at its start and end. */
export type Meter = Pick<StreamOptions, "onAttemptStart" | "onAttempt">;

/**
 * A Meter for the calls of one product step. `row` holds what every row shares; completions are
 * collected in `pending` (await them before summing a message's usage). A call that streamed
 * and was cut short before the provider reported usage is billed as estimated: its input as
 * estimated at its start, its output as `cutShort()` says. A call refused before it streamed
 * (429, 5xx) bills nothing, as the providers do.
 */
export function meter(
  row: Omit<UsageRow, "provider" | "model" | "providerModel" | "status" | "usage" | "callId">,
  pending: Promise<void>[],
  cutShort: () => number = () => 0,
): Meter {
  const zero = { outputTokens: 0, cachedReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  const estimates = new Map<string, number>();
  return {
    onAttemptStart: (s) => {
      estimates.set(s.callId, s.estimatedInputTokens);
      return recordUsage({
        ...row,
        callId: s.callId,
        provider: s.provider,
        model: s.model,
        providerModel: s.providerModel,
        attempt: s.attempt,
        status: "pending",
        usage: { inputTokens: s.estimatedInputTokens, ...zero },
        estimated: true,
      });
    },
    onAttempt: (a) => {
      const usage = { ...a.usage };
      let estimated = false;
      if (a.status !== "ok" && a.ttftMs !== null) {
        if (usage.inputTokens === 0 && usage.cachedReadTokens === 0) {
          usage.inputTokens = estimates.get(a.callId) ?? 0;
          estimated = true;
        }
        if (usage.outputTokens === 0) {
          usage.outputTokens = cutShort();
          estimated = true;
        }
      }
      estimates.delete(a.callId);
      pending.push(recordUsage({
        ...row,
        callId: a.callId,
        provider: a.provider,
        model: a.model,
        providerModel: a.providerModel,
        attempt: a.attempt,
        status: a.status,
        usage,
        estimated,
        latencyMs: a.latencyMs,
        ttftMs: a.ttftMs,
        errorType: a.errorKind,
        errorMessage: a.errorMessage,
      }));
    },
  };
}
