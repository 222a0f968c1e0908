// Which events a summary (or task detection) reads first, and how they are cut into model calls:
// ranked by importance (the connectors' 0-100), recency within the window and, with a topic,
// meaning (a search rank); taken in that order until the token budget is spent; cut into parts
// of at most partTokens, each in time order.
import { eventLine, type WindowEvent } from "./events.ts";

export interface Ranked {
  event: WindowEvent;
  score: number;
}

/**
 * importance (0..1) + recency (0..1 across the window) + meaning (0..1 by search rank, only with
 * a topic, weighted double: a prompt that names a topic is about it). Ties: newer first.
 */
export function rankEvents(
  events: WindowEvent[],
  window: { start: Date; end: Date },
  meaning: Map<string, number>,
): Ranked[] {
  const span = Math.max(window.end.getTime() - window.start.getTime(), 1);
  return events.map((event) => {
    const recency = (new Date(event.occurred_at).getTime() - window.start.getTime()) / span;
    const semantic = meaning.get(event.id);
    const score = event.importance_score / 100 + Math.min(Math.max(recency, 0), 1) +
      (semantic === undefined ? 0 : 2 / (1 + semantic / 10));
    return { event, score };
  }).sort((a, b) =>
    b.score - a.score ||
    new Date(b.event.occurred_at).getTime() - new Date(a.event.occurred_at).getTime() ||
    a.event.id.localeCompare(b.event.id)
  );
}

export interface Part {
  events: WindowEvent[];
  text: string;
}

/** Rough token count of prompt text (the providers' own counts land in the ledger). */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

/** Best-ranked first until the budget is spent; parts of at most partTokens, in time order. */
export function pack(
  ranked: Ranked[],
  timeZone: string,
  limits: { partTokens: number; summaryTokenBudget: number },
): Part[] {
  const chosen: { event: WindowEvent; line: string }[] = [];
  let spent = 0;
  for (const { event } of ranked) {
    const line = eventLine(event, timeZone);
    const cost = estimateTokens(line) + 1;
    if (spent + cost > limits.summaryTokenBudget) break;
    spent += cost;
    chosen.push({ event, line });
  }
  chosen.sort((a, b) =>
    new Date(a.event.occurred_at).getTime() - new Date(b.event.occurred_at).getTime()
  );
  const parts: Part[] = [];
  let current: typeof chosen = [];
  let tokens = 0;
  for (const item of chosen) {
    const cost = estimateTokens(item.line) + 1;
    if (current.length && tokens + cost > limits.partTokens) {
      parts.push(toPart(current));
      current = [];
      tokens = 0;
    }
    current.push(item);
    tokens += cost;
  }
  if (current.length) parts.push(toPart(current));
  return parts;
}

const toPart = (items: { event: WindowEvent; line: string }[]): Part => ({
  events: items.map((i) => i.event),
  text: items.map((i) => i.line).join("\n"),
});
