// Tasks, one list for the inbox and the planner. The inbox's routes (seed 004 5.4): list by
// status and priority with totals, update, delete. The planner's (seed 001): create a one-off or
// recurring task in local time, occurrences in a range (stored rows and, beyond the horizon,
// computed ones), today in the user's zone, complete (advances the micro-goal pipeline), missed,
// reschedule (a given time or the scheduler's next free slot, conflicts reported), and changing a
// series' rule. POST /tasks/materialize is the horizon job's (pg_cron through pg_net).
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser, sql } from "../_shared/db.ts";
import { ApiError } from "../_shared/http.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";
import { calendarBusy } from "../_shared/planner/calendar.ts";
import { notFound, refusalsAsApiErrors } from "../_shared/planner/errors.ts";
import { advancePipeline } from "../_shared/planner/goals.ts";
import { recordObservation } from "../_shared/planner/patterns.ts";
import { plannerProfile } from "../_shared/planner/profile.ts";
import { ruleProblem } from "../_shared/planner/recurrence.ts";
import { overlapping, schedule } from "../_shared/planner/scheduler.ts";
import {
  changeSeriesRule,
  deleteTask,
  dueSeries,
  getSeries,
  getTask,
  horizonDays,
  insertSeries,
  insertTask,
  listTasks,
  materializeSeries,
  moveTask,
  occurrencesInRange,
  setTaskOutcome,
  Task,
  taskBusy,
  taskJson,
  updateTask,
} from "../_shared/planner/tasks.ts";
import { iso, localDate, localDayBounds, localToInstant } from "../_shared/planner/time.ts";
import { LocalDateTime, PRIORITIES, Rrule, TASK_STATUSES, TimeZone } from "../_shared/planner/types.ts";
import { runInBackground } from "../_shared/runtime.ts";
import { requireWebhookSecret } from "../_shared/secrets.ts";
import { decodeCursor, encodeCursor } from "../_shared/validate.ts";

export const app = createApp<AuthedEnv>("tasks");
const DAY = 86_400_000;

// ---- the horizon job (before requireUser: it carries the webhook secret, not a user) -----------

const materialize = route({
  middleware: [requireWebhookSecret],
  method: "post",
  path: "/materialize",
  summary: "Materialize recurring occurrences up to the horizon (called by pg_cron)",
  auth: "secret",
  request: {
    body: jsonBody(z.strictObject({ batch_size: z.int().min(1).max(1000).default(200) })),
  },
  responses: {
    200: json(z.object({ series: z.int(), tasks: z.int() }), "Series extended, rows added"),
  },
  errors: { 400: "Invalid body", 401: "Bad secret" },
});
app.openapi(materialize, async (c) => {
  const { batch_size } = c.req.valid("json");
  const result = await sql.begin(async (tx) => {
    const through = Date.now() + (await horizonDays(tx)) * DAY;
    const due = await dueSeries(tx, through, batch_size);
    let tasks = 0;
    for (const s of due) tasks += await materializeSeries(tx, s, through);
    return { series: due.length, tasks };
  });
  return c.json(result, 200);
});

app.use("*", requireUser);
app.use("*", limitWrites());

// ---- schemas ----------------------------------------------------------------------------------

const TaskList = z.object({
  tasks: z.array(Task),
  total: z.int(),
  by_priority: z.object({ high: z.int(), medium: z.int(), low: z.int() }),
  next_cursor: z.string().nullable(),
}).openapi("TaskList");

const ListQuery = z.strictObject({
  status: z.enum(TASK_STATUSES).optional().openapi({ description: "default open (list mode)" }),
  priority: z.enum(PRIORITIES).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: "range mode: with `to`" }),
  to: z.iso.datetime({ offset: true }).optional(),
}).refine((q) => (q.from === undefined) === (q.to === undefined), "give both from and to, or neither")
  .refine((q) => !q.from || Date.parse(q.to!) > Date.parse(q.from), "to must be after from")
  .refine((q) => !q.from || Date.parse(q.to!) - Date.parse(q.from) <= 366 * DAY, "at most a year")
  .refine((q) => !q.from || (!q.status && !q.priority && !q.cursor), "range mode takes no filters");
const ListCursor = z.strictObject({ t: z.string().max(64), id: z.uuid() });

const CreateTask = z.strictObject({
  title: z.string().trim().min(1).max(500),
  details: z.string().max(10_000).nullable().optional(),
  priority: z.enum(PRIORITIES).optional(),
  start_at: LocalDateTime.openapi({ description: "local wall-clock time, e.g. 2027-03-26T09:00:00" }),
  timezone: TimeZone.optional().openapi({ description: "default: the profile's" }),
  duration_minutes: z.int().min(1).max(1440),
  rrule: Rrule.optional(),
  goal_id: z.uuid().optional(),
  place: z.string().trim().min(1).max(200).optional(),
}).openapi("CreateTask");

const Series = z.object({
  id: z.uuid(),
  rrule: z.string(),
  starts_local: z.string(),
  time_zone: z.string(),
  duration_minutes: z.int(),
  exdates: z.array(z.string()),
  status: z.enum(["active", "ended", "cancelled"]),
  materialized_through: z.string().nullable(),
}).openapi("TaskSeries");

const Created = z.object({ series: Series.nullable(), tasks: z.array(Task) }).openapi("CreatedTasks");

const PatchTask = z.strictObject({
  status: z.enum(TASK_STATUSES).optional(),
  snoozed_until: z.iso.datetime({ offset: true }).nullable().optional(),
  priority: z.enum(PRIORITIES).optional(),
  title: z.string().trim().min(1).max(500).optional(),
  details: z.string().max(10_000).nullable().optional(),
  due_at: z.iso.datetime({ offset: true }).nullable().optional(),
}).refine((b) => Object.keys(b).length > 0, "Send at least one field to change")
  .refine((b) => b.status !== "snoozed" || b.snoozed_until, "snoozing needs snoozed_until")
  .openapi("PatchTask");

const Reschedule = z.strictObject({
  start_at: LocalDateTime.optional().openapi({ description: "omit: the scheduler's next free slot" }),
  timezone: TimeZone.optional(),
}).openapi("Reschedule");

const Conflict = z.object({ source: z.string(), start: z.string(), end: z.string() });
const Rescheduled = z.object({ task: Task, conflicts: z.array(Conflict) }).openapi("Rescheduled");

const Completed = z.object({
  task: Task,
  micro_goal_done: z.boolean(),
  goal_completed: z.boolean(),
}).openapi("CompletedTask");

const ChangeSeries = z.strictObject({
  rrule: Rrule.optional(),
  start_at: LocalDateTime.optional(),
  duration_minutes: z.int().min(1).max(1440).optional(),
}).refine((b) => Object.keys(b).length > 0, "Send at least one field to change").openapi("ChangeSeries");

const ids = uuidParams("id");
const seriesJson = (s: NonNullable<Awaited<ReturnType<typeof getSeries>>>) => ({
  id: s.id,
  rrule: s.rrule,
  starts_local: s.starts_local,
  time_zone: s.time_zone,
  duration_minutes: s.duration_minutes,
  exdates: s.exdates,
  status: s.status,
  materialized_through: s.materialized_through?.toISOString() ?? null,
});
const byPriority = (tasks: Task[]) => ({
  high: tasks.filter((t) => t.priority === "high").length,
  medium: tasks.filter((t) => t.priority === "medium").length,
  low: tasks.filter((t) => t.priority === "low").length,
});

// ---- list, today, one ---------------------------------------------------------------------------

const list = route({
  method: "get",
  path: "/",
  summary: "Tasks by status and priority (with totals), or every occurrence in a time range",
  description: "List mode (seed 004): `status` (default open), `priority`, `cursor`. Range mode: " +
    "`from` and `to` give every task scheduled in [from, to): stored rows and, beyond the " +
    "materialized horizon, computed occurrences of recurring series (`computed: true`, `id: null`).",
  auth: "user",
  request: { query: ListQuery },
  responses: { 200: json(TaskList, "The tasks") },
  errors: { 400: "Invalid query or cursor" },
});
app.openapi(list, async (c) => {
  const q = c.req.valid("query");
  const user = c.get("user");
  if (q.from && q.to) {
    const tasks = await asUser(user.claims, async (tx) => {
      const { timeZone } = await plannerProfile(user.id);
      return occurrencesInRange(tx, Date.parse(q.from!), Date.parse(q.to!), timeZone);
    });
    return c.json({ tasks, total: tasks.length, by_priority: byPriority(tasks), next_cursor: null }, 200);
  }
  const after = q.cursor ? decodeCursor(ListCursor, q.cursor) : undefined;
  const { timeZone } = await plannerProfile(user.id);
  const page = await asUser(user.claims, (tx) =>
    listTasks(tx, { status: q.status ?? "open", priority: q.priority, after, limit: q.limit }));
  const last = page.rows.at(-1);
  return c.json({
    tasks: page.rows.map((r) => taskJson(r, timeZone)),
    total: page.total,
    by_priority: page.by_priority,
    next_cursor: page.more && last ? encodeCursor({ t: last.created_key, id: last.id }) : null,
  }, 200);
});

const today = route({
  method: "get",
  path: "/today",
  summary: "Today's tasks in the user's time zone (not cancelled), by start",
  auth: "user",
  responses: {
    200: json(z.object({ date: z.string(), time_zone: z.string(), tasks: z.array(Task) }), "Today"),
  },
});
app.openapi(today, async (c) => {
  const user = c.get("user");
  const { timeZone } = await plannerProfile(user.id);
  const date = localDate(Date.now(), timeZone);
  const { start, end } = localDayBounds(date, timeZone);
  const tasks = await asUser(user.claims, (tx) => occurrencesInRange(tx, start, end, timeZone));
  return c.json({ date, time_zone: timeZone, tasks: tasks.filter((t) => t.status !== "cancelled") }, 200);
});

const getOne = route({
  method: "get",
  path: "/{id}",
  summary: "One task",
  auth: "user",
  request: { params: ids },
  responses: { 200: json(Task, "The task") },
  errors: { 400: "Invalid id", 404: "No such task" },
});
app.openapi(getOne, async (c) => {
  const { id } = c.req.valid("param");
  const user = c.get("user");
  const row = await asUser(user.claims, (tx) => getTask(tx, id));
  if (!row) throw notFound("Task");
  return c.json(taskJson(row, (await plannerProfile(user.id)).timeZone), 200);
});

// ---- create -----------------------------------------------------------------------------------

const create = route({
  method: "post",
  path: "/",
  summary: "Create a task at a local time, once or recurring (RRULE in the task's time zone)",
  auth: "user",
  request: { body: jsonBody(CreateTask) },
  responses: { 201: json(Created, "The task, or the series and its materialized occurrences") },
  errors: { 400: "Invalid body", 404: "No such goal", 422: "The RRULE cannot be used" },
});
app.openapi(create, async (c) => {
  const body = c.req.valid("json");
  const user = c.get("user");
  const timeZone = body.timezone ?? (await plannerProfile(user.id)).timeZone;
  const startsLocal = body.start_at.length === 16 ? `${body.start_at}:00` : body.start_at;
  if (body.rrule) {
    const problem = ruleProblem({ rrule: body.rrule, startsLocal, timeZone });
    if (problem) throw new ApiError(422, "invalid_rrule", problem);
  }
  const common = {
    title: body.title,
    details: body.details,
    priority: body.priority,
    timeZone,
    durationMinutes: body.duration_minutes,
    goalId: body.goal_id,
    place: body.place,
  };
  const created = await refusalsAsApiErrors(() =>
    asUser(user.claims, async (tx) => {
      if (!body.rrule) {
        const task = await insertTask(tx, user.id, {
          ...common,
          origin: "user",
          startAt: localToInstant(startsLocal, timeZone),
        });
        return { series: null, tasks: [taskJson(task, timeZone)] };
      }
      const series = await insertSeries(tx, user.id, { ...common, rrule: body.rrule, startsLocal });
      const through = Date.now() + (await horizonDays(tx)) * DAY;
      await materializeSeries(tx, series, through);
      const rows = await tx`select * from public.tasks where series_id = ${series.id} order by scheduled_at`;
      return {
        series: seriesJson((await getSeries(tx, series.id))!),
        // deno-lint-ignore no-explicit-any
        tasks: rows.map((r: any) => taskJson(r, timeZone)),
      };
    })
  );
  return c.json(created, 201);
});

// ---- the inbox's update and delete ------------------------------------------------------------

const patch = route({
  method: "patch",
  path: "/{id}",
  summary: "Change a task's status, snooze, priority, title, details or due date",
  auth: "user",
  request: { params: ids, body: jsonBody(PatchTask) },
  responses: { 200: json(Task, "The task") },
  errors: { 400: "Invalid body", 404: "No such task", 422: "Not a valid change" },
});
app.openapi(patch, async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const user = c.get("user");
  const row = await refusalsAsApiErrors(() => asUser(user.claims, (tx) => updateTask(tx, id, body)));
  if (!row) throw notFound("Task");
  return c.json(taskJson(row, (await plannerProfile(user.id)).timeZone), 200);
});

const remove = route({
  method: "delete",
  path: "/{id}",
  summary: "Delete a task (an occurrence of a series is excluded from it for good)",
  auth: "user",
  request: { params: ids },
  responses: { 204: { description: "Deleted" } },
  errors: { 400: "Invalid id", 404: "No such task" },
});
app.openapi(remove, async (c) => {
  const { id } = c.req.valid("param");
  if (!(await asUser(c.get("user").claims, (tx) => deleteTask(tx, id)))) throw notFound("Task");
  return c.body(null, 204);
});

// ---- the planner's actions --------------------------------------------------------------------

const complete = route({
  method: "patch",
  path: "/{id}/complete",
  summary: "Mark a task done; advances its goal's micro-goal pipeline",
  auth: "user",
  request: { params: ids },
  responses: { 200: json(Completed, "The task, and whether its micro-goal and goal are done") },
  errors: { 400: "Invalid id", 404: "No such task", 409: "The task was cancelled" },
});
app.openapi(complete, async (c) => {
  const { id } = c.req.valid("param");
  const user = c.get("user");
  const result = await asUser(user.claims, async (tx) => {
    const task = await outcome(tx, id, "done");
    return { task, ...(await advancePipeline(tx, task)) };
  });
  return c.json({ ...result, task: taskJson(result.task, (await plannerProfile(user.id)).timeZone) }, 200);
});

const missed = route({
  method: "patch",
  path: "/{id}/missed",
  summary: "Mark a task missed; the pattern observer looks at the history again",
  auth: "user",
  request: { params: ids },
  responses: { 200: json(Task, "The task") },
  errors: { 400: "Invalid id", 404: "No such task", 409: "The task was cancelled" },
});
app.openapi(missed, async (c) => {
  const { id } = c.req.valid("param");
  const user = c.get("user");
  const task = await asUser(user.claims, (tx) => outcome(tx, id, "missed"));
  runInBackground(recordObservation(user.claims));
  return c.json(taskJson(task, (await plannerProfile(user.id)).timeZone), 200);
});

async function outcome(tx: Parameters<typeof getTask>[0], id: string, status: "done" | "missed") {
  const task = await setTaskOutcome(tx, id, status);
  if (task) return task;
  if (await getTask(tx, id)) throw new ApiError(409, "cancelled", "The task was cancelled");
  throw notFound("Task");
}

const reschedule = route({
  method: "post",
  path: "/{id}/reschedule",
  summary: "Move a task to a given local time, or to the scheduler's next free slot",
  description: "Moving one occurrence of a series leaves the series alone. With a given time, " +
    "overlaps with calendar events and other tasks are reported in `conflicts` (the move is made).",
  auth: "user",
  request: { params: ids, body: jsonBody(Reschedule) },
  responses: { 200: json(Rescheduled, "The task at its new time") },
  errors: { 400: "Invalid body", 404: "No such task", 409: "No free slot in the horizon", 422: "Task has no duration" },
});
app.openapi(reschedule, async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const user = c.get("user");
  const profile = await plannerProfile(user.id);
  const result = await asUser(user.claims, async (tx) => {
    const task = await getTask(tx, id);
    if (!task) throw notFound("Task");
    if (!task.duration_minutes) throw new ApiError(422, "no_duration", "The task has no duration");
    const zone = body.timezone ?? task.time_zone ?? profile.timeZone;
    const days = await horizonDays(tx);
    const now = Date.now();
    let start: number;
    const windowEnd = now + days * DAY;
    const busy = [
      ...(await calendarBusy(tx, now - DAY, windowEnd + DAY)),
      ...(await taskBusy(tx, now - DAY, windowEnd + DAY, zone, task.id)),
    ];
    if (body.start_at) {
      start = localToInstant(body.start_at, zone);
    } else {
      const found = schedule({
        requests: [{ key: task.id, durationMinutes: task.duration_minutes, rrule: null, preferredTime: "any" }],
        timeZone: zone,
        preferences: profile.preferences,
        busy,
        from: Math.max(now, task.scheduled_at ? task.scheduled_at.getTime() + 60_000 : now),
        days,
      });
      if (!found.slots.length) throw new ApiError(409, "no_free_slot", found.unscheduled[0].reason);
      start = Date.parse(found.slots[0].startAt);
    }
    const conflicts = overlapping({ start, end: start + task.duration_minutes * 60_000 }, busy)
      .map((b) => ({ source: b.source ?? "busy", start: iso(b.start), end: iso(b.end) }));
    return { task: (await moveTask(tx, id, start, zone))!, conflicts };
  });
  return c.json({ task: taskJson(result.task, profile.timeZone), conflicts: result.conflicts }, 200);
});

const changeSeries = route({
  method: "patch",
  path: "/series/{id}",
  summary: "Change a recurring series' rule, start or duration",
  description: "Future occurrences that are still open and were never moved or edited are " +
    "regenerated from the new rule; done, missed, moved and edited ones stay as they are.",
  auth: "user",
  request: { params: ids, body: jsonBody(ChangeSeries) },
  responses: { 200: json(Series, "The series") },
  errors: { 400: "Invalid body", 404: "No such series", 422: "The RRULE cannot be used" },
});
app.openapi(changeSeries, async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const series = await asUser(c.get("user").claims, async (tx) => {
    const current = await getSeries(tx, id);
    if (!current) throw notFound("Series");
    const startsLocal = body.start_at && body.start_at.length === 16 ? `${body.start_at}:00` : body.start_at;
    const problem = ruleProblem({
      rrule: body.rrule ?? current.rrule,
      startsLocal: startsLocal ?? current.starts_local,
      timeZone: current.time_zone,
    });
    if (problem) throw new ApiError(422, "invalid_rrule", problem);
    const through = Date.now() + (await horizonDays(tx)) * DAY;
    return await changeSeriesRule(tx, id, {
      rrule: body.rrule,
      startsLocal,
      durationMinutes: body.duration_minutes,
    }, through);
  });
  if (!series) throw notFound("Series");
  return c.json(seriesJson(series), 200);
});
