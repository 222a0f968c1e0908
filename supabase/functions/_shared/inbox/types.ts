// The inbox's contract (Prometheus, seed 004 section 5.3): intents, windows, the stored shapes
// of summaries, tasks, proposals and drafts, and the response bodies of POST /prompts.
import { z } from "zod";
import type { Tx } from "../db.ts";

/** Runs reads as the user (RLS), each in a short transaction: no connection waits on a model. */
export type Reader = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

export const SOURCES = ["slack", "outlook", "telegram"] as const;
export const Source = z.enum(SOURCES);
export type Source = z.infer<typeof Source>;

export const INTENTS = ["summarize", "task_detection", "search", "chat"] as const;
export const Intent = z.enum(INTENTS);
export type Intent = z.infer<typeof Intent>;

export const Priority = z.enum(["low", "medium", "high"]);
export type Priority = z.infer<typeof Priority>;

/** [start, end) in UTC; `phrase` is the words of the prompt it was read from, if any. */
export interface TimeWindow {
  start: Date;
  end: Date;
  phrase: string | null;
}

/** What a stored row cites: `{type: "event", id, source}` (seed 004's source_refs). */
export interface SourceRef {
  type: "event" | "thread" | "note" | "document";
  id: string;
  source?: string;
}

/** A summary's content_json, exactly seed 004 5.3's `content`. */
export const SummaryContent = z.strictObject({
  overview: z.string(),
  key_events: z.array(z.strictObject({
    event_id: z.uuid(),
    source: z.string(),
    title: z.string(),
    timestamp: z.iso.datetime({ offset: true }),
  })),
  themes: z.array(z.string()),
  statistics: z.strictObject({
    total_events: z.number().int().min(0),
    by_source: z.record(z.string(), z.number().int().min(0)),
  }),
});
export type SummaryContent = z.infer<typeof SummaryContent>;

export interface SummaryRow {
  id: string;
  window_start: Date;
  window_end: Date;
  sources: string[] | null;
  topic: string | null;
  content_json: SummaryContent;
  source_refs: SourceRef[];
  meta: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

/** The `response` of POST /prompts for a summary (seed 004 5.3). */
export function summaryResponse(s: SummaryRow) {
  return {
    summary_id: s.id,
    time_range: { start: iso(s.window_start), end: iso(s.window_end) },
    content: s.content_json,
    created_at: iso(s.created_at),
  };
}

export const iso = (d: Date | string) => new Date(d).toISOString();
