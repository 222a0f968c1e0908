// The inbox's limits and models, rows of app_settings (`inbox.*`, added by the inbox
// migration), read once per instance every few seconds like the chat settings.
import type { Tx } from "../db.ts";
import type { Intent } from "./types.ts";

export interface InboxSettings {
  /** Summaries, tasks, search answers and chat (inbox.model). */
  model: string;
  /** Intent routing (inbox.router_model): a cheap model. */
  routerModel: string;
  /** Event text per summary call, in tokens (inbox.summary_part_tokens). */
  partTokens: number;
  /** All event text of one summary, in tokens (inbox.summary_token_budget); the rest is ranked out. */
  summaryTokenBudget: number;
  /** Events read from one window at most (inbox.window_max_events); statistics count them all. */
  windowMaxEvents: number;
  /** Events task detection reads (inbox.task_max_events), most important first. */
  taskMaxEvents: number;
  /** Window per intent when neither the caller nor the prompt gives one (Postgres intervals). */
  defaultWindows: Record<Exclude<Intent, "chat">, string>;
  /** Repair rounds for invalid model output (inbox.max_repairs). */
  maxRepairs: number;
  callTimeoutMs: number;
}

const REMEMBER_MS = 5_000;
let cached: { at: number; value: Promise<InboxSettings> } | null = null;

export function inboxSettings(tx: Tx): Promise<InboxSettings> {
  if (cached && Date.now() - cached.at < REMEMBER_MS) return cached.value;
  const value = load(tx);
  cached = { at: Date.now(), value };
  value.catch(() => (cached = null));
  return value;
}

async function load(tx: Tx): Promise<InboxSettings> {
  const rows = await tx<{ key: string; value: unknown }[]>`
    select key, value from public.app_settings where key like 'inbox.%'`;
  const get = (key: string) => rows.find((r) => r.key === `inbox.${key}`)?.value;
  const num = (key: string, fallback: number) => {
    const v = Number(get(key));
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  const windows = (get("default_windows") ?? {}) as Record<string, string>;
  return {
    model: String(get("model") ?? "gpt-5-mini"),
    routerModel: String(get("router_model") ?? "gpt-5-mini"),
    partTokens: num("summary_part_tokens", 12_000),
    summaryTokenBudget: num("summary_token_budget", 96_000),
    windowMaxEvents: num("window_max_events", 5_000),
    taskMaxEvents: num("task_max_events", 200),
    defaultWindows: {
      summarize: windows.summarize ?? "24 hours",
      task_detection: windows.task_detection ?? "7 days",
      search: windows.search ?? "30 days",
    },
    maxRepairs: num("max_repairs", 2),
    callTimeoutMs: Number(Deno.env.get("AIDE_LLM_TIMEOUT_MS") ?? 120_000),
  };
}
