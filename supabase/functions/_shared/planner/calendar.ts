// The in-app calendar (seed 004 5.5): queries over calendar_events, always inside the caller's
// RLS transaction. The scheduler reads the same rows as busy time.
import { z } from "@hono/zod-openapi";
import type { Tx } from "../db.ts";
import type { Interval } from "./types.ts";

const instant = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().trim().max(max);

export const CalendarEventBody = z.strictObject({
  title: text(500).min(1),
  description: text(10_000).nullable().optional(),
  start_at: instant,
  end_at: instant,
  location: text(500).nullable().optional(),
}).refine((e) => Date.parse(e.end_at) > Date.parse(e.start_at), {
  message: "end_at must be after start_at",
  path: ["end_at"],
}).openapi("CalendarEventInput");

/** PUT: the same fields, all optional; end_at after start_at is checked on the stored result. */
export const CalendarEventPatch = z.strictObject({
  title: text(500).min(1).optional(),
  description: text(10_000).nullable().optional(),
  start_at: instant.optional(),
  end_at: instant.optional(),
  location: text(500).nullable().optional(),
}).refine((b) => Object.keys(b).length > 0, "Send at least one field to change")
  .openapi("CalendarEventPatch");

export const CalendarRange = z.strictObject({
  start_at: instant,
  end_at: instant,
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
}).refine((q) => Date.parse(q.end_at) > Date.parse(q.start_at), {
  message: "end_at must be after start_at",
  path: ["end_at"],
});
export const CalendarCursor = z.strictObject({ s: instant, id: z.uuid() });

export const CalendarEvent = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  start_at: z.string(),
  end_at: z.string(),
  location: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("CalendarEvent");
export type CalendarEvent = z.infer<typeof CalendarEvent>;

export const CalendarEventList = z.object({
  events: z.array(CalendarEvent),
  total: z.int(),
  next_cursor: z.string().nullable(),
}).openapi("CalendarEventList");

const COLUMNS = "id, title, description, start_at, end_at, location, created_at, updated_at";
const toJson = (r: Record<string, unknown>): CalendarEvent =>
  Object.fromEntries(
    Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
  ) as unknown as CalendarEvent;

/** Events overlapping [start, end), by start then id, after the cursor; and how many overlap. */
export async function listCalendarEvents(
  tx: Tx,
  range: { start: string; end: string; after?: { s: string; id: string }; limit: number },
) {
  const rows = await tx.unsafe(
    `select ${COLUMNS} from public.calendar_events
     where start_at < $2 and end_at > $1 and ($3::timestamptz is null or (start_at, id) > ($3, $4::uuid))
     order by start_at, id limit $5`,
    [range.start, range.end, range.after?.s ?? null, range.after?.id ?? null, range.limit + 1],
  );
  const [{ total }] = await tx`select count(*)::int as total from public.calendar_events
                               where start_at < ${range.end} and end_at > ${range.start}`;
  const more = rows.length > range.limit;
  return { events: rows.slice(0, range.limit).map(toJson), total: total as number, more };
}

export async function createCalendarEvent(tx: Tx, userId: string, body: z.output<typeof CalendarEventBody>) {
  const [row] = await tx.unsafe(
    `insert into public.calendar_events (user_id, title, description, start_at, end_at, location)
     values ($1, $2, $3, $4, $5, $6) returning ${COLUMNS}`,
    [userId, body.title, body.description ?? null, body.start_at, body.end_at, body.location ?? null],
  );
  return toJson(row);
}

/** The updated event, or null when the caller has no such event. */
export async function updateCalendarEvent(
  tx: Tx,
  id: string,
  patch: z.output<typeof CalendarEventPatch>,
): Promise<CalendarEvent | null> {
  const [row] = await tx.unsafe(
    `update public.calendar_events set
       title = coalesce($2, title),
       description = case when $3::boolean then $4 else description end,
       start_at = coalesce($5::timestamptz, start_at),
       end_at = coalesce($6::timestamptz, end_at),
       location = case when $7::boolean then $8 else location end
     where id = $1 returning ${COLUMNS}`,
    [
      id,
      patch.title ?? null,
      "description" in patch,
      patch.description ?? null,
      patch.start_at ?? null,
      patch.end_at ?? null,
      "location" in patch,
      patch.location ?? null,
    ],
  );
  return row ? toJson(row) : null;
}

export async function deleteCalendarEvent(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`delete from public.calendar_events where id = ${id} returning id`;
  return rows.length > 0;
}

/** The caller's events overlapping [from, to), as busy intervals for the scheduler. */
export async function calendarBusy(tx: Tx, from: number, to: number): Promise<Interval[]> {
  const rows = await tx<{ id: string; start_at: Date; end_at: Date }[]>`
    select id, start_at, end_at from public.calendar_events
    where start_at < ${new Date(to)} and end_at > ${new Date(from)}`;
  return rows.map((r) => ({
    start: r.start_at.getTime(),
    end: r.end_at.getTime(),
    source: `calendar:${r.id}`,
  }));
}
