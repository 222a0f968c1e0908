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
 * `history` is the newest part of the branch, oldest first, ending with the user message being
 * answered: everything after the stored summary when `summary` is given (the database read it
 * only that far), else as far back as the read's bounds went.
 * `summarize(previous, turns)` returns the summary of `previous` (may be empty) plus `turns`.
 *
 * While what came after the summary fits (the budget, `maxMessages`), it is all sent with the
 * summary. Once it does not, the summary is extended with the older turns so that what stays
 * fits well within the bounds (three quarters of the budget, half the messages): the next
 * sends reuse that summary instead of writing one each time.
 */
export async function buildContext(args: {
  system: string;
  history: HistoryMessage[];
  summary: StoredSummary | null;
  spec: ModelSpec;
  budgetRatio: number;
  maxMessages: number;
  summarize: (previous: string, turns: HistoryMessage[]) => Promise<string>;
}): Promise<Context> {
  const turns = args.history.filter((m) => m.content.trim() !== "" || m.files?.length);
  const budget = Math.floor(args.spec.contextWindow * args.budgetRatio) -
    estimateTokens(args.system);
  const withSummary = (summary: StoredSummary | null) =>
    summary
      ? `${args.system}\n\nSummary of the earlier part of this conversation:\n${summary.text}`
      : args.system;
  const toMessages = (list: HistoryMessage[]) => list.map(toMessage);

  const total = turns.reduce((sum, m) => sum + cost(m), 0);
  if (turns.length <= args.maxMessages && total <= budget) {
    return { system: withSummary(args.summary), messages: toMessages(turns) };
  }
  // Keep the newest turns that fit the lower bounds; the newest user message always goes.
  let used = 0;
  let keepFrom = turns.length;
  while (keepFrom > 0) {
    const next = cost(turns[keepFrom - 1]);
    const kept = turns.length - keepFrom;
    if (kept > 0 && (used + next > budget * 0.75 || kept >= args.maxMessages / 2)) break;
    used += next;
    keepFrom--;
  }
  // Providers want the history to start with a user turn.
  while (keepFrom < turns.length - 1 && turns[keepFrom].role !== "user") keepFrom++;
  const dropped = turns.slice(0, keepFrom);
  if (dropped.length === 0) { // the newest message alone is over the budget
    return { system: withSummary(args.summary), messages: toMessages(turns) };
  }
  const summary = {
    text: await args.summarize(args.summary?.text ?? "", dropped),
    throughId: dropped[dropped.length - 1].id,
  };
  return {
    system: withSummary(summary),
    messages: toMessages(turns.slice(keepFrom)),
    newSummary: summary,
  };
}
