// What the model sees: the system prompt and the active branch of the conversation, windowed
// to the model's context budget. Turns that no longer fit are replaced by a summary written by
// the cheap utility model and stored on the conversation, so it is computed once and extended
// incrementally as the conversation grows.
import type { LlmMessage, ModelSpec } from "../llm/types.ts";
import { estimateTokens } from "./ledger.ts";

export interface HistoryMessage {
  id: string;
  role: "user" | "assistant";
  content: string;
}

export interface StoredSummary {
  text: string;
  throughId: string;
}

export interface Context {
  system: string;
  messages: LlmMessage[];
  /** Set when a new summary was written and must be stored. */
  newSummary?: StoredSummary;
}

/**
 * `history` is the branch from its root to the newest user message, oldest first.
 * `summarize(previous, turns)` returns the summary of `previous` (may be empty) plus `turns`.
 */
export async function buildContext(args: {
  system: string;
  history: HistoryMessage[];
  summary: StoredSummary | null;
  spec: ModelSpec;
  budgetRatio: number;
  summarize: (previous: string, turns: HistoryMessage[]) => Promise<string>;
}): Promise<Context> {
  const turns = args.history.filter((m) => m.content.trim() !== "");
  const budget = Math.floor(args.spec.contextWindow * args.budgetRatio) -
    estimateTokens(args.system);
  // Keep the newest turns that fit; the newest user message always goes.
  let used = 0;
  let keepFrom = turns.length;
  while (keepFrom > 0) {
    const cost = estimateTokens(turns[keepFrom - 1].content) + 4;
    if (keepFrom < turns.length && used + cost > budget * 0.75) break;
    used += cost;
    keepFrom--;
  }
  // Providers want the history to start with a user turn.
  while (keepFrom < turns.length - 1 && turns[keepFrom].role !== "user") keepFrom++;
  const kept = turns.slice(keepFrom);
  const dropped = turns.slice(0, keepFrom);
  const toMessages = (list: HistoryMessage[]) =>
    list.map((m) => ({ role: m.role, content: m.content }));
  if (dropped.length === 0) return { system: args.system, messages: toMessages(kept) };

  // Reuse the stored summary when it covers a prefix of what was dropped; extend it otherwise.
  const coveredUpTo = args.summary
    ? dropped.findIndex((m) => m.id === args.summary!.throughId)
    : -1;
  const last = dropped[dropped.length - 1];
  let summary: StoredSummary;
  let fresh = false;
  if (coveredUpTo === dropped.length - 1) {
    summary = args.summary!;
  } else {
    const previous = coveredUpTo >= 0 ? args.summary!.text : "";
    summary = {
      text: await args.summarize(previous, dropped.slice(coveredUpTo + 1)),
      throughId: last.id,
    };
    fresh = true;
  }
  return {
    system: `${args.system}\n\nSummary of the earlier part of this conversation:\n${summary.text}`,
    messages: toMessages(kept),
    newSummary: fresh ? summary : undefined,
  };
}
