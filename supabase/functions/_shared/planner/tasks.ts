// Tasks and recurring series: the queries behind the `tasks` routes (the inbox's list and
// updates, the planner's occurrences, today, complete, missed, reschedule), and materializing a
// series' occurrences as task rows up to the horizon. Every function takes the caller's RLS
// transaction, except the horizon job's, which runs for all users on the service connection.
import { z } from "@hono/zod-openapi";
import type { Tx } from "../db.ts";
import { nextOccurrence, occurrencesBetween, type SeriesRule } from "./recurrence.ts";
import { instantToLocal, iso, localDate, localDayBounds } from "./time.ts";
import { type Interval, PRIORITIES, TASK_STATUSES } from "./types.ts";

// ---- the API shape --------------------------------------------------------------------------

export const Task = z.object({
  id: z.uuid().nullable().openapi({ description: "null for a computed occurrence" }),
  origin: z.enum(["user", "planner", "inbox"]),
  status: z.enum(TASK_STATUSES),
  priority: z.enum(PRIORITIES),
  title: z.string(),
  details: z.string().nullable(),
  reason: z.string().nullable(),
  due_at: z.string().nullable(),
  snoozed_until: z.string().nullable(),
  goal_id: z.uuid().nullable(),
  micro_goal_id: z.uuid().nullable(),
  series_id: z.uuid().nullable(),
  recurrence_id: z.string().nullable(),
  scheduled_at: z.string().nullable().openapi({ description: "start, UTC" }),
  local_start: z.string().nullable().openapi({ description: "start in time_zone, wall clock" }),
  time_zone: z.string().nullable(),
  duration_minutes: z.int().nullable(),
  categories: z.array(z.string()),
  place: z.string().nullable(),
  overridden: z.boolean(),
  source_event_id: z.uuid().nullable(),
  source_refs: z.array(z.unknown()),
  completed_at: z.string().nullable(),
  missed_at: z.string().nullable(),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  computed: z.boolean().openapi({
    description: "an occurrence beyond the materialized horizon: computed from its series, not stored",
  }),
}).openapi("Task");
export type Task = z.infer<typeof Task>;

export interface TaskRow {
  id: string;
  user_id: string;
  origin: Task["origin"];
  status: Task["status"];
  priority: Task["priority"];
  title: string;
  details: string | null;
  reason: string | null;
  due_at: Date | null;
  snoozed_until: Date | null;
  goal_id: string | null;
  micro_goal_id: string | null;
  series_id: string | null;
  recurrence_id: Date | null;
  scheduled_at: Date | null;
  duration_minutes: number | null;
  time_zone: string | null;
  categories: string[];
  place: string | null;
  overridden: boolean;
  source_event_id: string | null;
  source_refs: unknown[];
  completed_at: Date | null;
  missed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface SeriesRow {
  id: string;
  user_id: string;
  goal_id: string | null;
  micro_goal_id: string | null;
  title: string;
  details: string | null;
  priority: Task["priority"];
  categories: string[];
  place: string | null;
  rrule: string;
  starts_local: string;
  time_zone: string;
  duration_minutes: number;
  exdates: string[];
  status: "active" | "ended" | "cancelled";
  rule_version: number;
  materialized_through: Date | null;
}

const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export function taskJson(r: TaskRow, zoneFallback: string): Task {
  const zone = r.time_zone ?? zoneFallback;
  return {
    id: r.id,
    origin: r.origin,
    status: r.status,
    priority: r.priority,
    title: r.title,
    details: r.details,
    reason: r.reason,
    due_at: isoOrNull(r.due_at),
    snoozed_until: isoOrNull(r.snoozed_until),
    goal_id: r.goal_id,
    micro_goal_id: r.micro_goal_id,
    series_id: r.series_id,
    recurrence_id: isoOrNull(r.recurrence_id),
    scheduled_at: isoOrNull(r.scheduled_at),
    local_start: r.scheduled_at ? instantToLocal(r.scheduled_at.getTime(), zone) : null,
    time_zone: r.time_zone,
    duration_minutes: r.duration_minutes,
    categories: r.categories,
    place: r.place,
    overridden: r.overridden,
    source_event_id: r.source_event_id,
    source_refs: r.source_refs,
    completed_at: isoOrNull(r.completed_at),
    missed_at: isoOrNull(r.missed_at),
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    computed: false,
  };
}

/** A series' occurrence that has no row (beyond the horizon), in the same shape as a stored one. */
function computedJson(s: SeriesRow, at: number): Task {
  return {
    id: null,
    origin: s.goal_id ? "planner" : "user",
    status: "open",
    priority: s.priority,
    title: s.title,
    details: s.details,
    reason: null,
    due_at: null,
    snoozed_until: null,
    goal_id: s.goal_id,
    micro_goal_id: s.micro_goal_id,
    series_id: s.id,
    recurrence_id: iso(at),
    scheduled_at: iso(at),
    local_start: instantToLocal(at, s.time_zone),
    time_zone: s.time_zone,
    duration_minutes: s.duration_minutes,
    categories: s.categories,
    place: s.place,
    overridden: false,
    source_event_id: null,
    source_refs: [],
    completed_at: null,
    missed_at: null,
    created_at: null,
    updated_at: null,
    computed: true,
  };
}

export const seriesRule = (s: SeriesRow): SeriesRule => ({
  rrule: s.rrule,
  startsLocal: s.starts_local,
  timeZone: s.time_zone,
  exdates: s.exdates,
});

// ---- settings and the caller's profile ----------------------------------------------------------

export async function horizonDays(tx: Tx): Promise<number> {
  const [row] = await tx`select value from public.app_settings where key = 'planner.horizon_days'`;
  return Number(row?.value ?? 14);
}

export async function profileTimeZone(tx: Tx): Promise<string> {
  const [row] = await tx`select timezone from public.profiles where id = (select auth.uid())`;
  return row?.timezone ?? "UTC";
}

// ---- the inbox's list (seed 004 5.4) --------------------------------------------------------

export interface ListFilter {
  status: Task["status"];
  priority?: Task["priority"];
  after?: { t: string; id: string };
  limit: number;
}

/** Tasks with a status (and priority), newest first, with totals by priority for that status. */
export async function listTasks(tx: Tx, f: ListFilter) {
  // The cursor keeps created_at as Postgres prints it: microseconds, which a JS Date would cut
  // (hence also ::text first: a timestamptz parameter would be sent through a Date).
  const rows = await tx<(TaskRow & { created_key: string })[]>`
    select *, created_at::text as created_key from public.tasks
    where status = ${f.status} and (${f.priority ?? null}::text is null or priority = ${f.priority ?? null})
      and (${f.after?.t ?? null}::text is null
           or (created_at, id) < (${f.after?.t ?? null}::text::timestamptz, ${f.after?.id ?? null}::uuid))
    order by created_at desc, id desc limit ${f.limit + 1}`;
  const counts = await tx<{ priority: Task["priority"]; n: number }[]>`
    select priority, count(*)::int as n from public.tasks
    where status = ${f.status} and (${f.priority ?? null}::text is null or priority = ${f.priority ?? null})
    group by priority`;
  const by_priority = { high: 0, medium: 0, low: 0 };
  for (const c of counts) by_priority[c.priority] = c.n;
  return {
    rows: rows.slice(0, f.limit),
    more: rows.length > f.limit,
    total: counts.reduce((sum, c) => sum + c.n, 0),
    by_priority,
  };
}

// ---- one task -----------------------------------------------------------------------------------

export async function getTask(tx: Tx, id: string): Promise<TaskRow | null> {
  const [row] = await tx<TaskRow[]>`select * from public.tasks where id = ${id}`;
  return row ?? null;
}

export interface TaskPatch {
  status?: Task["status"];
  snoozed_until?: string | null;
  priority?: Task["priority"];
  title?: string;
  details?: string | null;
  due_at?: string | null;
}

/** Applies the fields given; an edited occurrence of a series is marked overridden. */
export async function updateTask(tx: Tx, id: string, p: TaskPatch): Promise<TaskRow | null> {
  const has = (k: keyof TaskPatch) => k in p;
  const status = p.status ?? null;
  const [row] = await tx<TaskRow[]>`
    update public.tasks set
      status = coalesce(${status}::text, status),
      snoozed_until = case when ${has("snoozed_until")} then ${p.snoozed_until ?? null}::text::timestamptz
                           when ${status}::text is not null and ${status}::text <> 'snoozed' then null
                           else snoozed_until end,
      priority = coalesce(${p.priority ?? null}::text, priority),
      title = coalesce(${p.title ?? null}::text, title),
      details = case when ${has("details")} then ${p.details ?? null}::text else details end,
      due_at = case when ${has("due_at")} then ${p.due_at ?? null}::text::timestamptz else due_at end,
      completed_at = case when ${status}::text = 'done' then coalesce(completed_at, now())
                          when ${status}::text is not null then null else completed_at end,
      missed_at = case when ${status}::text = 'missed' then coalesce(missed_at, now())
                       when ${status}::text is not null then null else missed_at end,
      overridden = overridden or (series_id is not null
                                  and (${has("title")} or ${has("details")} or ${has("priority")}))
    where id = ${id} returning *`;
  return row ?? null;
}

/** Deletes a task; an occurrence of a series becomes an EXDATE of it, so it never comes back. */
export async function deleteTask(tx: Tx, id: string): Promise<boolean> {
  const [row] = await tx<{ series_id: string | null; recurrence_id: Date | null }[]>`
    delete from public.tasks where id = ${id} returning series_id, recurrence_id`;
  if (!row) return false;
  if (row.series_id && row.recurrence_id) {
    await tx`update public.task_series s
             set exdates = array_append(s.exdates, (${row.recurrence_id} at time zone s.time_zone))
             where s.id = ${row.series_id}`;
  }
  return true;
}

// ---- creating tasks and series ------------------------------------------------------------------

export interface NewTask {
  title: string;
  details?: string | null;
  priority?: Task["priority"];
  startAt: number;
  timeZone: string;
  durationMinutes: number;
  goalId?: string | null;
  microGoalId?: string | null;
  categories?: string[];
  place?: string | null;
  origin: Task["origin"];
}

export async function insertTask(tx: Tx, userId: string, t: NewTask): Promise<TaskRow> {
  const [row] = await tx<TaskRow[]>`
    insert into public.tasks (user_id, origin, title, details, priority, scheduled_at,
                              duration_minutes, time_zone, goal_id, micro_goal_id, categories, place)
    values (${userId}, ${t.origin}, ${t.title}, ${t.details ?? null}, ${t.priority ?? "medium"},
            ${new Date(t.startAt)}, ${t.durationMinutes}, ${t.timeZone}, ${t.goalId ?? null},
            ${t.microGoalId ?? null}, ${t.categories ?? []}, ${t.place ?? null})
    returning *`;
  return row;
}

export interface NewSeries extends Omit<NewTask, "startAt" | "origin"> {
  rrule: string;
  startsLocal: string;
}

export async function insertSeries(tx: Tx, userId: string, s: NewSeries): Promise<SeriesRow> {
  const [row] = await tx<{ id: string }[]>`
    insert into public.task_series (user_id, goal_id, micro_goal_id, title, details, priority,
                                    categories, place, rrule, starts_local, time_zone, duration_minutes)
    values (${userId}, ${s.goalId ?? null}, ${s.microGoalId ?? null}, ${s.title}, ${s.details ?? null},
            ${s.priority ?? "medium"}, ${s.categories ?? []}, ${s.place ?? null}, ${s.rrule},
            ${s.startsLocal}, ${s.timeZone}, ${s.durationMinutes})
    returning id`;
  return (await getSeries(tx, row.id))!;
}

const SERIES_COLUMNS = `id, user_id, goal_id, micro_goal_id, title, details, priority, categories, place,
  rrule, to_char(starts_local, 'YYYY-MM-DD"T"HH24:MI:SS') as starts_local, time_zone, duration_minutes,
  array(select to_char(x, 'YYYY-MM-DD"T"HH24:MI:SS') from unnest(exdates) x) as exdates, status,
  rule_version, materialized_through`;

// starts_local and exdates are read as text (to_char above): a `timestamp` read as a Date would
// take the server's zone.
const normalizeSeries = (row: SeriesRow): SeriesRow => ({ ...row, exdates: row.exdates ?? [] });

// ---- materializing occurrences ------------------------------------------------------------------

/**
 * Inserts the series' occurrences from where its rows end (or from the start of today, local)
 * up to `through` as task rows, at most one per occurrence (a repeated call adds nothing), and
 * records how far the rows go; a rule with nothing left after that is `ended`. Returns the
 * number of rows inserted.
 */
export async function materializeSeries(tx: Tx, s: SeriesRow, through: number, now = Date.now()) {
  if (s.status !== "active") return 0;
  const from = s.materialized_through?.getTime() ??
    localDayBounds(localDate(now, s.time_zone), s.time_zone).start;
  if (through <= from) return 0;
  const rule = seriesRule(s);
  const rows = occurrencesBetween(rule, from, through).map((o) => ({
    user_id: s.user_id,
    origin: s.goal_id ? "planner" : "user",
    title: s.title,
    details: s.details,
    priority: s.priority,
    categories: s.categories,
    place: s.place,
    goal_id: s.goal_id,
    micro_goal_id: s.micro_goal_id,
    series_id: s.id,
    recurrence_id: new Date(o.at),
    scheduled_at: new Date(o.at),
    duration_minutes: s.duration_minutes,
    time_zone: s.time_zone,
  }));
  let inserted = 0;
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    const done = await tx`insert into public.tasks ${tx(batch)}
                          on conflict (series_id, recurrence_id) do nothing returning id`;
    inserted += done.length;
  }
  const more = nextOccurrence(rule, through) !== null;
  await tx`update public.task_series
           set materialized_through = ${new Date(through)}, status = ${more ? "active" : "ended"}
           where id = ${s.id} and rule_version = ${s.rule_version}`;
  return inserted;
}

export async function getSeries(tx: Tx, id: string): Promise<SeriesRow | null> {
  const [row] = await tx.unsafe(`select ${SERIES_COLUMNS} from public.task_series where id = $1`, [id]);
  return row ? normalizeSeries(row as unknown as SeriesRow) : null;
}

/**
 * A changed rule regenerates only what the user has not touched: future occurrences still
 * open and never moved or edited are deleted, the rows' horizon is reset to now, and the new
 * rule's occurrences are materialized (those at the instant of a kept row are skipped).
 */
export async function changeSeriesRule(
  tx: Tx,
  id: string,
  change: { rrule?: string; startsLocal?: string; durationMinutes?: number },
  through: number,
  now = Date.now(),
): Promise<SeriesRow | null> {
  const [updated] = await tx`
    update public.task_series set
      rrule = coalesce(${change.rrule ?? null}, rrule),
      starts_local = coalesce(${change.startsLocal ?? null}::timestamp, starts_local),
      duration_minutes = coalesce(${change.durationMinutes ?? null}::int, duration_minutes),
      rule_version = rule_version + 1, status = 'active', materialized_through = ${new Date(now)}
    where id = ${id} returning id`;
  if (!updated) return null;
  await tx`delete from public.tasks
           where series_id = ${id} and status = 'open' and not overridden and scheduled_at > ${new Date(now)}`;
  const series = await getSeries(tx, id);
  if (series) await materializeSeries(tx, series, through, now);
  return series;
}

/** The horizon job: active series whose rows end within a day of the horizon, any user's. */
export async function dueSeries(tx: Tx, through: number, limit: number): Promise<SeriesRow[]> {
  const rows = await tx.unsafe(
    `select ${SERIES_COLUMNS} from public.task_series
     where status = 'active' and (materialized_through is null or materialized_through < $1::timestamptz - interval '1 day')
     order by materialized_through nulls first limit $2 for update skip locked`,
    [new Date(through), limit],
  );
  return rows.map((r) => normalizeSeries(r as unknown as SeriesRow));
}

// ---- occurrences in a range ---------------------------------------------------------------------

/**
 * Every task scheduled in [from, to): the stored rows, plus, beyond each active series'
 * materialized rows, its computed occurrences (marked `computed`), in start order.
 */
export async function occurrencesInRange(tx: Tx, from: number, to: number, zone: string) {
  const rows = await tx<TaskRow[]>`
    select * from public.tasks
    where scheduled_at >= ${new Date(from)} and scheduled_at < ${new Date(to)}
    order by scheduled_at, id limit 5000`;
  const series = (await tx.unsafe(
    `select ${SERIES_COLUMNS} from public.task_series
     where status = 'active' and (materialized_through is null or materialized_through < $1)`,
    [new Date(to)],
  )).map((r) => normalizeSeries(r as unknown as SeriesRow));
  const stored = new Set(rows.filter((r) => r.series_id).map((r) => `${r.series_id}@${r.recurrence_id!.getTime()}`));
  const tasks: Task[] = rows.map((r) => taskJson(r, zone));
  for (const s of series) {
    const start = Math.max(from, s.materialized_through?.getTime() ?? from);
    for (const o of occurrencesBetween(seriesRule(s), start, to)) {
      if (!stored.has(`${s.id}@${o.at}`)) tasks.push(computedJson(s, o.at));
    }
  }
  // Occurrences moved out of the range keep their recurrence id: a computed one must not replace them.
  const moved = await tx<{ series_id: string; recurrence_id: Date }[]>`
    select series_id, recurrence_id from public.tasks
    where series_id is not null and recurrence_id >= ${new Date(from)} and recurrence_id < ${new Date(to)}
      and (scheduled_at < ${new Date(from)} or scheduled_at >= ${new Date(to)})`;
  const movedKeys = new Set(moved.map((m) => `${m.series_id}@${m.recurrence_id.getTime()}`));
  return tasks
    .filter((t) => !t.computed || !movedKeys.has(`${t.series_id}@${Date.parse(t.recurrence_id!)}`))
    .sort((a, b) => Date.parse(a.scheduled_at!) - Date.parse(b.scheduled_at!));
}

/** The caller's booked time overlapping [from, to): tasks still to do, and computed occurrences. */
export async function taskBusy(tx: Tx, from: number, to: number, zone: string, except?: string) {
  const tasks = await occurrencesInRange(tx, from - 24 * 3_600_000, to, zone);
  return tasks
    .filter((t) => t.id !== except && (t.status === "open" || t.status === "snoozed") && t.duration_minutes)
    .map((t): Interval => {
      const start = Date.parse(t.scheduled_at!);
      return { start, end: start + t.duration_minutes! * 60_000, source: `task:${t.id ?? t.series_id}` };
    })
    .filter((i) => i.end > from);
}

// ---- planner actions on one task ----------------------------------------------------------------

export async function setTaskOutcome(tx: Tx, id: string, status: "done" | "missed") {
  const [row] = await tx<TaskRow[]>`
    update public.tasks set status = ${status},
      completed_at = case when ${status} = 'done' then now() end,
      missed_at = case when ${status} = 'missed' then now() end,
      snoozed_until = null
    where id = ${id} and status in ('open', 'snoozed', 'missed', 'done') returning *`;
  return row ?? null;
}

export async function moveTask(tx: Tx, id: string, startAt: number, timeZone: string) {
  const [row] = await tx<TaskRow[]>`
    update public.tasks set scheduled_at = ${new Date(startAt)}, time_zone = ${timeZone},
      overridden = series_id is not null, status = case when status = 'missed' then 'open' else status end,
      missed_at = null
    where id = ${id} returning *`;
  return row ?? null;
}

/** Open tasks bound to a place (seed 001's location trigger). */
export async function tasksAtPlace(tx: Tx, place: string) {
  return await tx<TaskRow[]>`
    select * from public.tasks where lower(place) = lower(${place}) and status in ('open', 'snoozed')
    order by scheduled_at nulls last, created_at limit 20`;
}
