// Summarize: the events of a window as seed 004's summary (overview, key events, themes,
// statistics), stored in `summaries` with its source refs.
//
// 1. Statistics and the window's digest (its events' ids and content hashes) are SQL. If a
//    summary of the same events (same sources, same topic) is stored, it is the answer: same
//    summary_id, no model call, whatever the window's exact bounds.
// 2. The events are ranked: importance (0-100, from the connectors), recency within the window,
//    and, when the prompt names a topic, meaning (hybrid search rank). They are taken in that
//    order until the token budget (inbox.summary_token_budget) is spent, then cut into parts of
//    inbox.summary_part_tokens; each part is summarized (step prompts.summary, in parallel), and
//    more than one part is merged by one more call (prompts.summary_merge).
// 3. Every key event the model cites must be one of the events it was shown: invented ids are
//    asked about once more, then dropped; never stored. Titles, sources and times of key events
//    come from the events, not from the model.
import { z } from "zod";
import { jsonb, sql, type Tx } from "../db.ts";
import { searchKnowledge } from "../knowledge/search.ts";
import {
  eventLine,
  eventTitle,
  type WindowEvent,
  windowEvents,
  type WindowFilter,
  type WindowStatistics,
  windowStatistics,
} from "./events.ts";
import type { InboxRun, ProductStep } from "./llm.ts";
import { pack, type Part, rankEvents } from "./rank.ts";
import { sha256Hex } from "./refs.ts";
import { type Reader, SummaryContent, type SummaryRow } from "./types.ts";

const MAX_KEY_EVENTS = 10;
/** Parts summarized at once. */
const PARALLEL_PARTS = 4;

const PartOutput = z.strictObject({
  overview: z.string().min(1).max(4000).describe(
    "what happened, for the user, in a few sentences; name people, decisions, deadlines and open questions",
  ),
  key_events: z.array(z.strictObject({
    event_id: z.uuid().describe("the [id] of an event listed above, copied exactly"),
  })).max(MAX_KEY_EVENTS).describe("the events that matter most, most important first"),
  themes: z.array(z.string().min(1).max(60)).max(6).describe(
    "short snake_case topics, e.g. project_discussion, meeting_followup",
  ),
});
type PartOutput = z.infer<typeof PartOutput>;

const SYSTEM = [
  "You summarize a user's workspace messages (Slack, Outlook email, Telegram) for them.",
  "Each event is one line: [id] local time, source, type, where, from whom, importance (0-100), text.",
  "Cite events only by the ids in square brackets you were given. Be factual; never invent.",
].join(" ");

export interface SummarizeInput {
  filter: WindowFilter;
  topic: string | null;
  timeZone: string;
  /** Called as the work goes, for the event stream. */
  progress?: (p: { stage: string; part?: number; parts?: number; overview?: string }) => void;
}

export interface SummarizeResult {
  summary: SummaryRow;
  reused: boolean;
}

export async function summarize(
  run: InboxRun,
  read: Reader,
  input: SummarizeInput,
): Promise<SummarizeResult> {
  const { filter, topic } = input;
  const stats = await read((tx) => windowStatistics(tx, filter));
  const fingerprint = await sha256Hex(JSON.stringify({
    // An empty window is only the same as another over the same minutes.
    events: stats.total_events ? stats.digest : windowMinutes(filter),
    sources: filter.sources?.toSorted() ?? null,
    topic: topic?.toLowerCase() ?? null,
  }));
  const stored = await read((tx) => storedSummary(tx, fingerprint));
  if (stored) return { summary: stored, reused: true };

  input.progress?.({ stage: "reading" });
  const events = await read((tx) => windowEvents(tx, filter, run.settings.windowMaxEvents));
  const ranked = await rank(run, events, input);
  const parts = pack(ranked, input.timeZone, run.settings);
  const content = parts.length === 0
    ? emptyContent(stats)
    : await summarizeParts(run, parts, stats, input);
  const summary = await saveSummary(run.user.id, {
    filter,
    topic,
    fingerprint,
    content: content.content,
    meta: {
      events_in_window: stats.total_events,
      events_summarized: parts.reduce((n, p) => n + p.events.length, 0),
      parts: parts.length,
      dropped_citations: content.dropped,
    },
  });
  return { summary, reused: false };
}

function windowMinutes(f: WindowFilter) {
  const minute = (d: Date) => Math.floor(d.getTime() / 60_000);
  return [minute(f.window.start), minute(f.window.end)];
}

// ---- ranking by meaning ------------------------------------------------------------------------

/** The window's events ranked (rank.ts), by meaning too when the prompt names a topic. */
async function rank(run: InboxRun, events: WindowEvent[], input: SummarizeInput) {
  const meaning = input.topic && events.length
    ? await meaningRanks(run, input.topic, input.filter)
    : new Map<string, number>();
  return rankEvents(events, input.filter.window, meaning);
}

/** Event id -> rank (0 = best) among the window's events that match the topic. */
async function meaningRanks(run: InboxRun, topic: string, f: WindowFilter) {
  const hits = await searchKnowledge(run.user.claims, topic, {
    limit: 200,
    requestId: run.requestId,
    filters: {
      objectTypes: ["event"],
      sources: f.sources ?? undefined,
      from: f.window.start,
      to: f.window.end,
    },
  });
  const ranks = new Map<string, number>();
  for (const hit of hits) if (!ranks.has(hit.objectId)) ranks.set(hit.objectId, ranks.size);
  return ranks;
}

// ---- model calls -------------------------------------------------------------------------------

async function summarizeParts(
  run: InboxRun,
  parts: Part[],
  stats: WindowStatistics,
  input: SummarizeInput,
): Promise<{ content: SummaryContent; dropped: number }> {
  const focus = input.topic ? `\nThe user asks about: ${input.topic}. Focus on it.` : "";
  const outputs: { output: PartOutput; dropped: number }[] = new Array(parts.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < parts.length) {
      const i = next++;
      const part = parts[i];
      const header = parts.length > 1
        ? `Events, part ${i + 1} of ${parts.length} of the window (oldest first):`
        : "Events of the window (oldest first):";
      outputs[i] = await cited(
        run,
        "prompts.summary",
        `${header}\n${part.text}${focus}`,
        new Set(part.events.map((e) => e.id)),
      );
      // Each part's overview as it is ready: a client can show the summary forming.
      input.progress?.({
        stage: "summarizing",
        part: ++done,
        parts: parts.length,
        overview: outputs[i].output.overview,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, parts.length) }, worker));

  const byId = new Map(parts.flatMap((p) => p.events).map((e) => [e.id, e]));
  let final = outputs[0].output;
  let dropped = outputs.reduce((n, o) => n + o.dropped, 0);
  if (parts.length > 1) {
    input.progress?.({ stage: "merging" });
    const candidates = [
      ...new Set(outputs.flatMap((o) => o.output.key_events.map((k) => k.event_id))),
    ];
    const lines = candidates.map((id) => eventLine(byId.get(id)!, input.timeZone)).join("\n");
    const partials = outputs.map((o, i) =>
      `Part ${i + 1}: ${o.output.overview}\nThemes: ${o.output.themes.join(", ")}`
    ).join("\n\n");
    const merged = await cited(
      run,
      "prompts.summary_merge",
      `The window was summarized in ${parts.length} parts. Merge them into one summary of the whole window.\n\n${partials}\n\nKey events the parts chose:\n${lines}${focus}`,
      new Set(candidates),
    );
    final = merged.output;
    dropped += merged.dropped;
  }
  return { content: toContent(final, byId, stats), dropped };
}

/** One summary call whose key events must be among `allowed` (invented ones are dropped). */
async function cited(
  run: InboxRun,
  step: ProductStep,
  prompt: string,
  allowed: Set<string>,
): Promise<{ output: PartOutput; dropped: number }> {
  const { object, invented } = await run.citingObject(
    step,
    {
      system: SYSTEM,
      messages: [{ role: "user", content: prompt }],
    },
    PartOutput,
    { name: "summary", allowed, cited: (o) => o.key_events.map((k) => k.event_id) },
  );
  const seen = new Set<string>();
  const key_events = object.key_events.filter((k) =>
    allowed.has(k.event_id) && !seen.has(k.event_id) && seen.add(k.event_id)
  );
  const dropped = object.key_events.filter((k) => invented.has(k.event_id)).length;
  return { output: { ...object, key_events }, dropped };
}

function toContent(
  o: PartOutput,
  byId: Map<string, WindowEvent>,
  stats: WindowStatistics,
): SummaryContent {
  return SummaryContent.parse({
    overview: o.overview.trim(),
    key_events: o.key_events.map(({ event_id }) => {
      const e = byId.get(event_id)!;
      return {
        event_id,
        source: e.source,
        title: eventTitle(e),
        timestamp: new Date(e.occurred_at).toISOString(),
      };
    }),
    themes: [...new Set(o.themes.map(theme).filter(Boolean))],
    statistics: { total_events: stats.total_events, by_source: stats.by_source },
  });
}

const theme = (t: string) =>
  t.trim().toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "_").replace(/^_+|_+$/g, "").slice(0, 60);

function emptyContent(stats: WindowStatistics): { content: SummaryContent; dropped: number } {
  return {
    content: {
      overview: "Nothing arrived in this window.",
      key_events: [],
      themes: [],
      statistics: { total_events: stats.total_events, by_source: stats.by_source },
    },
    dropped: 0,
  };
}

// ---- storage -----------------------------------------------------------------------------------

export const SUMMARY_COLUMNS = sql`id, window_start, window_end, sources, topic, content_json,
  source_refs, meta, created_at, updated_at`;

function storedSummary(tx: Tx, fingerprint: string): Promise<SummaryRow | undefined> {
  return tx<SummaryRow[]>`select ${SUMMARY_COLUMNS} from public.summaries
                          where fingerprint = ${fingerprint}`.then(([row]) => row);
}

/**
 * Written on the service connection: summaries are the model's output, which no user writes
 * (they read and delete them). A concurrent identical prompt finds the row and keeps it.
 */
async function saveSummary(userId: string, s: {
  filter: WindowFilter;
  topic: string | null;
  fingerprint: string;
  content: SummaryContent;
  meta: Record<string, unknown>;
}): Promise<SummaryRow> {
  const refs = s.content.key_events.map((k) => ({
    type: "event",
    id: k.event_id,
    source: k.source,
  }));
  const [row] = await sql<SummaryRow[]>`
    insert into public.summaries (user_id, window_start, window_end, sources, topic, fingerprint,
                                  content_json, source_refs, meta)
    values (${userId}, ${s.filter.window.start}, ${s.filter.window.end}, ${s.filter.sources},
            ${s.topic}, ${s.fingerprint}, ${jsonb(s.content)}, ${jsonb(refs)}, ${jsonb(s.meta)})
    on conflict (user_id, fingerprint) do update set updated_at = public.summaries.updated_at
    returning ${SUMMARY_COLUMNS}`;
  return row;
}
