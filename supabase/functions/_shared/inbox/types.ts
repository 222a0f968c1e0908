// The inbox's contract (Prometheus, seed 004 section 5.3): intents, windows, the stored shapes
// of summaries, tasks, proposals and drafts, and the response bodies of POST /prompts.
import { z } from "zod";

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
