// What the model sees: the system prompt and the active branch of the conversation, windowed
// to the model's context budget. Turns that no longer fit are replaced by a summary written by
// the cheap utility model and stored on the conversation, so it is computed once and extended
// incrementally as the conversation grows.
import { estimateFileTokens } from "../llm/common.ts";
import type { LlmMessage, LlmPart, ModelSpec } from "../llm/types.ts";
import { estimateTokens } from "./ledger.ts";
import type { PartOf } from "./parts.ts";

export interface HistoryMessage {
  id: string;
  role: "user" | "assistant";
  content: string;
  /** A user message's stored attachment parts. */
  attachments?: PartOf<"attachment">[];
  /** The files to send with it (attachments.ts withFiles decides which, and reads them). */
  files?: Extract<LlmPart, { type: "file" }>[];
}

const cost = (m: HistoryMessage) =>
  estimateTokens(m.content) + 4 +
  (m.files ?? []).reduce((n, f) => n + estimateFileTokens(f.mediaType, (f.data.length * 3) / 4), 0);

const toMessage = (m: HistoryMessage): LlmMessage => ({
  role: m.role,
  // Files first: both providers advise putting documents and images before the question.
  content: m.files?.length
    ? [...m.files, ...(m.content ? [{ type: "text" as const, text: m.content }] : [])]
    : m.content,
});

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
  const turns = args.history.filter((m) => m.content.trim() !== "" || m.files?.length);
  const budget = Math.floor(args.spec.contextWindow * args.budgetRatio) -
    estimateTokens(args.system);
  // Keep the newest turns that fit; the newest user message always goes.
  let used = 0;
  let keepFrom = turns.length;
  while (keepFrom > 0) {
    const turn = cost(turns[keepFrom - 1]);
    if (keepFrom < turns.length && used + turn > budget * 0.75) break;
    used += turn;
    keepFrom--;
  }
  // Providers want the history to start with a user turn.
  while (keepFrom < turns.length - 1 && turns[keepFrom].role !== "user") keepFrom++;
  const kept = turns.slice(keepFrom);
  const dropped = turns.slice(0, keepFrom);
  const toMessages = (list: HistoryMessage[]) => list.map(toMessage);
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
