// Embeddings for the search index and for queries, through the LLM layer, metered in the usage
// ledger (product "knowledge", step "embedding") batch by batch, and only within the user's
// budget (402 budget_exceeded before any provider call once it is spent).
import { sql } from "../db.ts";
import { requireBudget } from "../limits.ts";
import { embed } from "../llm/embed.ts";
import { recordUsage } from "../chat/ledger.ts";

export const EMBEDDING_DIMENSIONS = 1536;

interface EmbeddingModel {
  alias: string;
  provider_model: string;
  base_url: string | null;
  api_key_env: string | null;
}

async function embeddingModel(): Promise<EmbeddingModel> {
  const [row] = await sql<EmbeddingModel[]>`
    select m.alias, m.provider_model, m.base_url, m.api_key_env from public.models m
    where m.alias = (select value #>> '{}' from public.app_settings where key = 'knowledge.embedding_model')`;
  if (!row) {
    throw new Error(
      "the embedding model in app_settings knowledge.embedding_model is not in the registry",
    );
  }
  return row;
}

/** Embeds `texts` on behalf of `userId`; every provider call lands in the usage ledger. */
export async function embedFor(
  userId: string,
  texts: string[],
  requestId?: string,
): Promise<number[][]> {
  await requireBudget(userId);
  const model = await embeddingModel();
  const metering: Promise<void>[] = [];
  // Each request is in the ledger from its start; a failed one bills nothing.
  const row = (callId: string, status: "pending" | "ok" | "error", inputTokens: number) => ({
    callId,
    requestId,
    userId,
    product: "knowledge",
    productStep: "embedding",
    provider: "openai",
    model: model.alias,
    providerModel: model.provider_model,
    status,
    estimated: status === "pending",
    usage: {
      inputTokens,
      outputTokens: 0,
      cachedReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    },
  });
  try {
    const result = await embed(texts, {
      model: model.provider_model,
      dimensions: EMBEDDING_DIMENSIONS,
      baseUrl: model.base_url ?? undefined,
      apiKeyEnv: model.api_key_env ?? undefined,
      onCallStart: (s) => recordUsage(row(s.callId, "pending", s.estimatedInputTokens)),
      onCall: (call) =>
        metering.push(recordUsage({
          ...row(call.callId, "ok", call.inputTokens),
          latencyMs: call.latencyMs,
        })),
      onCallFailed: (f) =>
        metering.push(recordUsage({
          ...row(f.callId, "error", 0),
          errorType: f.error.kind,
          errorMessage: f.error.message,
        })),
    });
    return result.vectors;
  } finally {
    await Promise.all(metering);
  }
}
