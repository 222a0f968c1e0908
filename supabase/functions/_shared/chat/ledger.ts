// Writes provider calls to the usage ledger. Every call is one row, idempotent by call_id; the
// database prices it with the price in effect and adds it to the conversation's totals.
import { jsonb, sql } from "../db.ts";
import { log } from "../http.ts";
import type { AttemptRecord } from "../llm/stream.ts";
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
  status: "ok" | "error" | "aborted";
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

/** The ledger row of one provider attempt, metered under the caller's product and step. */
export function attemptRow(
  a: AttemptRecord,
  row: Pick<UsageRow, "userId" | "productStep"> & Partial<UsageRow>,
): UsageRow {
  return {
    ...row,
    provider: a.provider,
    model: a.model,
    providerModel: a.providerModel,
    attempt: a.attempt,
    status: a.status,
    usage: a.usage,
    latencyMs: a.latencyMs,
    ttftMs: a.ttftMs,
    errorType: a.errorKind ?? null,
    errorMessage: a.errorMessage ?? null,
  };
}
