// Reading the caller's events (the connectors' `events` table) for a window, always as the user
// (RLS), and what is counted about them: in SQL, never by a model.
import { sql, type Tx } from "../db.ts";
import type { Source, TimeWindow } from "./types.ts";

export interface WindowEvent {
  id: string;
  source: string;
  event_type: string;
  title: string | null;
  body: string | null;
  url: string | null;
  importance_score: number;
  occurred_at: Date;
  content_hash: string;
  thread_id: string | null;
  thread_subject: string | null;
  thread_external_id: string | null;
  sender: string | null;
  source_account_id: string | null;
}

export interface WindowFilter {
  window: TimeWindow;
  sources: Source[] | null;
}

/** Longest body text read per event; longer bodies are cut (the ranking needs no more). */
const BODY_CHARS = 1_500;

/** The columns of a WindowEvent and where they come from (`select ${WINDOW_EVENT_SELECT} where ...`). */
const WINDOW_EVENT_SELECT = sql`
  e.id, e.source, e.event_type, e.title, left(e.body, ${BODY_CHARS}) as body, e.url,
  e.importance_score, e.occurred_at, e.content_hash, e.thread_id, e.source_account_id,
  t.subject as thread_subject, t.external_id as thread_external_id, p.name as sender
  from public.events e
  left join public.threads t on t.id = e.thread_id
  left join public.entities p on p.id = e.sender_entity_id`;

/**
 * The window's live events (not deleted, not expired), most important and newest first, at most
 * `limit`. Calendar entries are the planner's and not part of the inbox.
 */
export function windowEvents(tx: Tx, f: WindowFilter, limit: number): Promise<WindowEvent[]> {
  return tx<WindowEvent[]>`
    select ${WINDOW_EVENT_SELECT}
    where e.occurred_at >= ${f.window.start} and e.occurred_at < ${f.window.end}
      and e.deleted_at is null and e.expires_at > now() and e.source <> 'calendar'
      and (${f.sources}::text[] is null or e.source = any(${f.sources}::text[]))
    order by e.importance_score desc, e.occurred_at desc, e.id
    limit ${limit}`;
}

/** The caller's live events among `ids` (the rest are not theirs, or gone). */
export function eventsByIds(tx: Tx, ids: string[]): Promise<WindowEvent[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return tx<WindowEvent[]>`
    select ${WINDOW_EVENT_SELECT}
    where e.id = any(${ids}::uuid[]) and e.deleted_at is null and e.expires_at > now()`;
}

export interface WindowStatistics {
  total_events: number;
  by_source: Record<string, number>;
  /**
   * What the events are, for the summary cache: SHA-256 over every event's id and content hash,
   * in id order. The same events with the same content give the same digest, whatever the
   * window's exact bounds.
   */
  digest: string;
}

/** Counted over the whole window, also the events a summary had no room for. */
export async function windowStatistics(tx: Tx, f: WindowFilter): Promise<WindowStatistics> {
  const [row] = await tx<{ total: number; by_source: Record<string, number>; digest: string }[]>`
    with w as (
      select e.id, e.source, e.content_hash from public.events e
      where e.occurred_at >= ${f.window.start} and e.occurred_at < ${f.window.end}
        and e.deleted_at is null and e.expires_at > now() and e.source <> 'calendar'
        and (${f.sources}::text[] is null or e.source = any(${f.sources}::text[]))
    ), counts as (select source, count(*)::int as n from w group by source)
    select (select count(*)::int from w) as total,
           coalesce((select jsonb_object_agg(source, n) from counts), '{}'::jsonb) as by_source,
           encode(sha256(convert_to(coalesce(
             (select string_agg(id::text || ':' || content_hash, ',' order by id) from w), ''),
             'UTF8')), 'hex') as digest`;
  const bySource: Record<string, number> = { slack: 0, telegram: 0, outlook: 0 };
  for (const [source, n] of Object.entries(row.by_source)) bySource[source] = n;
  return { total_events: row.total, by_source: bySource, digest: row.digest };
}

/** How an event reads in a prompt: one line per event, its id first so it can be cited. */
export function eventLine(e: WindowEvent, timeZone: string): string {
  const when = localStamp(e.occurred_at, timeZone);
  const where = e.thread_subject ? ` in "${oneLine(e.thread_subject, 80)}"` : "";
  const who = e.sender ? ` from ${oneLine(e.sender, 60)}` : "";
  const title = e.title ? `${oneLine(e.title, 200)}: ` : "";
  return `[${e.id}] ${when} ${e.source} ${e.event_type}${where}${who} (importance ${e.importance_score}) ${title}${
    oneLine(e.body ?? "", 600)
  }`;
}

/** A short title for an event when it has none: its first words. */
export function eventTitle(e: Pick<WindowEvent, "title" | "body" | "source" | "thread_subject">) {
  if (e.title) return oneLine(e.title, 200);
  const body = oneLine(e.body ?? "", 80);
  const where = e.thread_subject ? ` in ${oneLine(e.thread_subject, 60)}` : "";
  return body ? `${body}` : `${e.source} message${where}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : flat.slice(0, max - 1) + "…";
}

/** `2026-12-01 10:05 (-05:00)`: the user's local time, so "this morning" reads right. */
export function localStamp(instant: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "longOffset",
    }).formatToParts(instant).map((p) => [p.type, p.value]),
  );
  const offset = String(parts.timeZoneName).replace("GMT", "") || "+00:00";
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} (${offset})`;
}
