// The prompt router: what a free-text prompt asks for. In this order, and the caller's context
// always wins over what is inferred:
// 1. the time window: the caller's `time_window`, else a time phrase read deterministically in
//    the user's zone (window.ts), else the phrase the model points at (parsed the same way),
//    else the intent's default window (app_settings inbox.default_windows);
// 2. one structured-output call to the router model (step prompts.router) for the intent, the
//    sources the text names, a priority filter and a topic; skipped when the caller gave the
//    intent, since then nothing else needs a model.
import { z } from "zod";
import type { InboxRun } from "./llm.ts";
import { Intent, Priority, Source, type TimeWindow } from "./types.ts";
import { parseTimeWindow } from "./window.ts";

export const PromptContext = z.strictObject({
  sources: z.array(Source).min(1).max(3).optional(),
  time_window: z.strictObject({
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
  }).refine((w) => Date.parse(w.end) > Date.parse(w.start), "end must be after start")
    .nullable().optional(),
  priority: Priority.optional(),
  intent: Intent.optional(),
});
export type PromptContext = z.infer<typeof PromptContext>;

export interface RoutedPrompt {
  intent: Intent;
  window: TimeWindow;
  /** Where the window came from. */
  windowFrom: "context" | "prompt" | "model" | "default";
  /** null: every source. */
  sources: Source[] | null;
  priority: Priority | null;
  /** What the prompt is about, for ranking by meaning; null when it names no topic. */
  topic: string | null;
}

/** What the router model fills in; strict-compatible (every field present, null when unknown). */
export const RouterOutput = z.strictObject({
  intent: Intent.describe(
    "summarize: recap, summary, summarize, catch up, what happened, digest, overview; " +
      "task_detection: what needs action, needs my action, todo, to-do, tasks, follow up, reply, owe, pending, waiting on me; " +
      "search: find, search, look up, where, which, who said, when did; " +
      "chat: anything else (greetings, general questions)",
  ),
  sources: z.array(Source).max(3).describe(
    "the sources the prompt names: slack, outlook (email, mail, inbox), telegram; empty when it names none",
  ),
  priority: Priority.nullable().describe(
    "only when the prompt asks for a priority (urgent, important: high); else null",
  ),
  topic: z.string().max(200).nullable().describe(
    "the subject the prompt asks about in a few words (e.g. 'the Q3 launch'); null when none",
  ),
  time_phrase: z.string().max(100).nullable().describe(
    "the words of the prompt that name a time period, verbatim; null when none",
  ),
});
export type RouterOutput = z.infer<typeof RouterOutput>;

const SYSTEM =
  "You route a user's request to a workspace inbox assistant (Slack, Outlook email, Telegram). " +
  "Classify it and extract only what the text says. Never guess a source or a priority it does not name.";

export interface RouteInput {
  prompt: string;
  context: PromptContext;
  now: Date;
  timeZone: string;
}

export async function routePrompt(run: InboxRun, input: RouteInput): Promise<RoutedPrompt> {
  const { prompt, context, now, timeZone } = input;
  const given = context.time_window
    ? {
      start: new Date(context.time_window.start),
      end: new Date(context.time_window.end),
      phrase: null,
    }
    : null;
  const parsed = given ? null : parseTimeWindow(prompt, now, timeZone);

  let inferred: RouterOutput | null = null;
  if (!context.intent) {
    const result = await run.object(
      "prompts.router",
      {
        system: SYSTEM,
        messages: [{ role: "user", content: prompt }],
        maxOutputTokens: 512,
      },
      RouterOutput,
      { name: "route", router: true },
    );
    inferred = result.object;
  }
  const intent = context.intent ?? inferred!.intent;

  let window: TimeWindow | null = given ?? parsed;
  let windowFrom: RoutedPrompt["windowFrom"] = given ? "context" : "prompt";
  if (!window && inferred?.time_phrase) {
    window = parseTimeWindow(inferred.time_phrase, now, timeZone);
    windowFrom = "model";
  }
  if (!window) {
    window = defaultWindow(run.settings.defaultWindows, intent, now);
    windowFrom = "default";
  }
  const sources = context.sources ??
    (inferred?.sources.length ? [...new Set(inferred.sources)] : null);
  return {
    intent,
    window,
    windowFrom,
    sources,
    priority: context.priority ?? inferred?.priority ?? null,
    topic: inferred?.topic?.trim() || null,
  };
}

/** The intent's default window ("24 hours" back from now; chat reads the last day). */
export function defaultWindow(
  windows: InboxRun["settings"]["defaultWindows"],
  intent: Intent,
  now: Date,
): TimeWindow {
  const interval = intent === "chat" ? "24 hours" : windows[intent];
  return { start: new Date(now.getTime() - intervalMs(interval)), end: now, phrase: null };
}

const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/** "24 hours", "7 days", "2 weeks" (the settings' subset of Postgres intervals). */
export function intervalMs(interval: string): number {
  const m = interval.trim().match(/^(\d+)\s*(minute|hour|day|week)s?$/i);
  if (!m) throw new Error(`unsupported interval "${interval}" (use N minutes|hours|days|weeks)`);
  return Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
}
