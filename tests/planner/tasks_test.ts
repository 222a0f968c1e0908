// The tasks function against the running stack: one list for the inbox (status, priority,
// totals) and the planner (local times in the user's zone, recurring series materialized up to
// the horizon idempotently and computed beyond it, complete, missed, reschedule, rule changes).
import assert from "node:assert/strict";
import { chatUser, withDb } from "../_support/chat.ts";
import { call, FUNCTIONS_URL } from "../_support/stack.ts";

const DAY = 86_400_000;
/** Tomorrow's date in a zone, "YYYY-MM-DD". */
const dateIn = (zone: string, offsetDays: number) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(
    new Date(Date.now() + offsetDays * DAY),
  );

async function plannerUser(zone = "Europe/Berlin") {
  const u = await chatUser("tasks");
  await withDb((sql) => sql`update public.profiles set timezone = ${zone} where id = ${u.userId}`);
  return u;
}

const webhookSecret = () =>
  withDb(async (sql) =>
    (await sql`select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret'`)[
      0
    ]
      .decrypted_secret as string
  );

Deno.test("tasks: a one-off task at a local time is stored in UTC and shown in local time", async () => {
  const u = await plannerUser("America/New_York");
  const res = await u.api("/tasks", {
    method: "POST",
    json: { title: "Call the bank", start_at: "2027-03-15T09:30", duration_minutes: 20 },
  });
  assert.equal(res.status, 201, res.text);
  const [task] = res.body.tasks;
  assert.equal(res.body.series, null);
  assert.equal(task.scheduled_at, "2027-03-15T13:30:00.000Z"); // EDT since 14 March
  assert.equal(task.local_start, "2027-03-15T09:30:00");
  assert.equal(task.time_zone, "America/New_York");
  assert.equal(task.origin, "user");
  const other = await u.api("/tasks", {
    method: "POST",
    json: {
      title: "Standup",
      start_at: "2027-03-15T09:30:00",
      timezone: "Europe/Berlin",
      duration_minutes: 15,
    },
  });
  assert.equal(other.body.tasks[0].scheduled_at, "2027-03-15T08:30:00.000Z");
});

Deno.test("tasks: a recurring series is materialized to the horizon once, computed beyond it, 09:00 local across DST", async () => {
  const u = await plannerUser("Europe/Berlin");
  const start = `${dateIn("Europe/Berlin", 1)}T09:00:00`;
  const res = await u.api("/tasks", {
    method: "POST",
    json: { title: "Stretch", start_at: start, duration_minutes: 10, rrule: "FREQ=DAILY" },
  });
  assert.equal(res.status, 201, res.text);
  const series = res.body.series;
  // Tomorrow through the horizon (14 days from now): 14 occurrences, all at 09:00 local.
  assert.ok(
    res.body.tasks.length >= 13 && res.body.tasks.length <= 14,
    String(res.body.tasks.length),
  );
  assert.ok(
    res.body.tasks.every((t: { local_start: string }) => t.local_start.endsWith("T09:00:00")),
  );

  // The horizon job: a second and third run add nothing (one row per series and occurrence).
  const secret = await webhookSecret();
  const count = () =>
    withDb(async (sql) =>
      (await sql`select count(*)::int as n, count(distinct recurrence_id)::int as d
                                     from public.tasks where series_id = ${series.id}`)[0]
    );
  const before = await count();
  for (let i = 0; i < 2; i++) {
    const r = await call(`${FUNCTIONS_URL}/tasks/materialize`, {
      method: "POST",
      token: secret,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ batch_size: 50 }),
    });
    assert.equal(r.status, 200, r.text);
  }
  assert.deepEqual(await count(), before);
  assert.equal(before.n, before.d);
  // A run with the horizon moved on extends the series by exactly the new days.
  await withDb((sql) =>
    sql`update public.task_series set materialized_through = materialized_through - interval '3 days'
                            where id = ${series.id}`
  );
  const r = await call(`${FUNCTIONS_URL}/tasks/materialize`, {
    method: "POST",
    token: secret,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({}),
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(
    await count(),
    before,
    "the re-run materialized days already there: nothing new",
  );

  // Beyond the horizon: computed occurrences, same fields, 09:00 local on both sides of a DST change.
  const range = await u.api(`/tasks?from=2030-03-29T00:00:00Z&to=2030-04-02T00:00:00Z`);
  assert.equal(range.status, 200, range.text);
  const mine = range.body.tasks.filter((t: { series_id: string }) => t.series_id === series.id);
  assert.deepEqual(mine.map((t: { scheduled_at: string }) => t.scheduled_at), [
    "2030-03-29T08:00:00.000Z",
    "2030-03-30T08:00:00.000Z",
    "2030-03-31T07:00:00.000Z", // CEST from 31 March 2030
    "2030-04-01T07:00:00.000Z",
  ]);
  assert.ok(
    mine.every((t: { computed: boolean; id: null; local_start: string }) =>
      t.computed && t.id === null && t.local_start.endsWith("T09:00:00")
    ),
  );
  // The materialized part of the range comes from the rows.
  const near = await u.api(
    `/tasks?from=${new Date(Date.now()).toISOString()}&to=${
      new Date(Date.now() + 3 * DAY).toISOString()
    }`,
  );
  assert.ok(
    near.body.tasks.filter((t: { series_id: string }) => t.series_id === series.id)
      .every((t: { computed: boolean; id: string }) => !t.computed && t.id),
  );
});

Deno.test("tasks: moving or completing one occurrence leaves the series alone; a rule change regenerates only untouched future ones", async () => {
  const u = await plannerUser("Europe/Berlin");
  const start = `${dateIn("Europe/Berlin", 1)}T07:00:00`;
  const created = await u.api("/tasks", {
    method: "POST",
    json: { title: "Run", start_at: start, duration_minutes: 30, rrule: "FREQ=DAILY;COUNT=6" },
  });
  assert.equal(created.status, 201, created.text);
  const [first, second, third] = created.body.tasks;
  assert.equal(created.body.tasks.length, 6);
  assert.equal((await u.api(`/tasks/${first.id}/complete`, { method: "PATCH" })).status, 200);
  const moved = await u.api(`/tasks/${second.id}/reschedule`, {
    method: "POST",
    json: { start_at: `${second.local_start.slice(0, 10)}T18:00:00` },
  });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.body.task.local_start.slice(11), "18:00:00");
  assert.equal(
    moved.body.task.recurrence_id,
    second.recurrence_id,
    "the occurrence keeps its identity",
  );
  assert.equal(moved.body.task.overridden, true);

  const series = await u.api(`/tasks/series/${created.body.series.id}`, {
    method: "PATCH",
    json: { rrule: "FREQ=DAILY;INTERVAL=2;COUNT=3" },
  });
  assert.equal(series.status, 200, series.text);
  const rows = await withDb((sql) =>
    sql`select id, status, overridden, to_char(scheduled_at at time zone 'Europe/Berlin', 'YYYY-MM-DD"T"HH24:MI') as local
        from public.tasks where series_id = ${created.body.series.id} order by recurrence_id`
  );
  const ids = rows.map((r) => r.id);
  assert.ok(ids.includes(first.id), "the completed one stays");
  assert.ok(ids.includes(second.id), "the moved one stays");
  assert.ok(!ids.includes(third.id), "an untouched future one is regenerated");
  // New rule: days 1, 3, 5; day 1 is the completed row (same instant), so rows: d1 done, d2 moved, d3, d5.
  assert.deepEqual(rows.map((r) => r.local.slice(11)), ["07:00", "18:00", "07:00", "07:00"]);
  assert.equal(rows.filter((r) => r.status === "done").length, 1);
});

Deno.test("tasks: deleting an occurrence excludes it from its series for good (EXDATE)", async () => {
  const u = await plannerUser("Europe/Berlin");
  const created = await u.api("/tasks", {
    method: "POST",
    json: {
      title: "Read",
      start_at: `${dateIn("Europe/Berlin", 1)}T20:00:00`,
      duration_minutes: 30,
      rrule: "FREQ=DAILY;COUNT=3",
    },
  });
  const victim = created.body.tasks[1];
  assert.equal((await u.api(`/tasks/${victim.id}`, { method: "DELETE" })).status, 204);
  assert.equal((await u.api(`/tasks/${victim.id}`)).status, 404);
  const [s] = await withDb((sql) =>
    sql`select exdates::text[] as exdates from public.task_series where id = ${created.body.series.id}`
  );
  assert.deepEqual(s.exdates, [victim.local_start.replace("T", " ")]);
  // A rule change regenerates untouched occurrences, but not the deleted one.
  await u.api(`/tasks/series/${created.body.series.id}`, {
    method: "PATCH",
    json: { duration_minutes: 45 },
  });
  const rows = await withDb((sql) =>
    sql`select recurrence_id from public.tasks where series_id = ${created.body.series.id}`
  );
  assert.equal(rows.length, 2);
  assert.ok(!rows.some((r) => r.recurrence_id.toISOString() === victim.recurrence_id));
});

Deno.test("tasks: the inbox's list has totals by priority, updates snooze and complete, and another user sees none of it", async () => {
  const u = await plannerUser("UTC");
  const other = await plannerUser("UTC");
  await withDb((sql) =>
    sql`insert into public.tasks (user_id, origin, title, priority, source_refs)
    select ${u.userId}, 'inbox', 'Reply ' || p, p, '[{"type": "event", "id": "x", "source": "slack"}]'
    from unnest(array['high', 'high', 'medium', 'low', 'medium']) p`
  );
  const res = await u.api("/tasks?status=open");
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.total, 5);
  assert.deepEqual(res.body.by_priority, { high: 2, medium: 2, low: 1 });
  const high = await u.api("/tasks?priority=high");
  assert.equal(high.body.total, 2);
  assert.ok(high.body.tasks.every((t: { priority: string }) => t.priority === "high"));
  // Paging: 2 at a time, every task once.
  const seen: string[] = [];
  let cursor = "";
  for (let page = 0; page < 5; page++) {
    const r = await u.api(`/tasks?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    seen.push(...r.body.tasks.map((t: { id: string }) => t.id));
    if (!r.body.next_cursor) break;
    cursor = r.body.next_cursor;
  }
  assert.equal(new Set(seen).size, 5);

  const id = res.body.tasks[0].id;
  const snooze = await u.api(`/tasks/${id}`, { method: "PATCH", json: { status: "snoozed" } });
  assert.equal(snooze.status, 400, "snoozing needs snoozed_until");
  const until = "2030-01-01T10:00:00.000Z";
  const ok = await u.api(`/tasks/${id}`, {
    method: "PATCH",
    json: { status: "snoozed", snoozed_until: until, priority: "low" },
  });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.snoozed_until, until);
  const done = await u.api(`/tasks/${id}`, { method: "PATCH", json: { status: "done" } });
  assert.equal(done.body.status, "done");
  assert.equal(done.body.snoozed_until, null);
  assert.ok(done.body.completed_at);
  assert.equal((await u.api("/tasks?status=done")).body.total, 1);

  assert.equal((await other.api(`/tasks/${id}`)).status, 404);
  assert.equal(
    (await other.api(`/tasks/${id}`, { method: "PATCH", json: { title: "mine" } })).status,
    404,
  );
  assert.equal((await other.api(`/tasks/${id}`, { method: "DELETE" })).status, 404);
  assert.equal((await other.api("/tasks")).body.total, 0);
  const [row] = await withDb((sql) => sql`select title, status from public.tasks where id = ${id}`);
  assert.deepEqual({ ...row }, { title: res.body.tasks[0].title, status: "done" });
  assert.equal((await u.api(`/tasks/${id}`, { method: "DELETE" })).status, 204);
});

Deno.test("tasks: reschedule to the next free slot avoids calendar events; a given time reports its conflicts", async () => {
  const u = await plannerUser("Europe/Berlin");
  await withDb((sql) =>
    sql`update public.profiles set preferences = ${
      sql.json({
        working_hours: { start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5, 6, 7] },
        quiet_hours: { start: "22:00", end: "07:00" },
      })
    } where id = ${u.userId}`
  );
  const day = dateIn("Europe/Berlin", 2);
  const created = await u.api("/tasks", {
    method: "POST",
    json: { title: "Write report", start_at: `${day}T09:00:00`, duration_minutes: 60 },
  });
  const task = created.body.tasks[0];
  // The calendar is busy from 10:00 to 12:00 local that day.
  const busyStart = new Date(Date.parse(task.scheduled_at) + 3_600_000).toISOString();
  const busyEnd = new Date(Date.parse(task.scheduled_at) + 3 * 3_600_000).toISOString();
  const ev = await u.api("/calendar/events", {
    method: "POST",
    json: { title: "Workshop", start_at: busyStart, end_at: busyEnd },
  });
  assert.equal(ev.status, 201, ev.text);
  const next = await u.api(`/tasks/${task.id}/reschedule`, { method: "POST", json: {} });
  assert.equal(next.status, 200, next.text);
  assert.equal(next.body.task.local_start, `${day}T12:00:00`);
  assert.deepEqual(next.body.conflicts, []);
  const forced = await u.api(`/tasks/${task.id}/reschedule`, {
    method: "POST",
    json: { start_at: `${day}T10:30:00` },
  });
  assert.equal(forced.status, 200, forced.text);
  assert.deepEqual(forced.body.conflicts.map((c: { source: string }) => c.source), [
    `calendar:${ev.body.id}`,
  ]);
});

Deno.test("tasks: today lists the user's local today, missed records the miss", async () => {
  const u = await plannerUser("Pacific/Kiritimati"); // UTC+14: local today is often UTC's tomorrow
  const today = dateIn("Pacific/Kiritimati", 0);
  const a = await u.api("/tasks", {
    method: "POST",
    json: { title: "Early", start_at: `${today}T00:30`, duration_minutes: 15 },
  });
  await u.api("/tasks", {
    method: "POST",
    json: {
      title: "Tomorrow",
      start_at: `${dateIn("Pacific/Kiritimati", 1)}T00:30`,
      duration_minutes: 15,
    },
  });
  const res = await u.api("/tasks/today");
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.date, today);
  assert.deepEqual(res.body.tasks.map((t: { title: string }) => t.title), ["Early"]);
  const missed = await u.api(`/tasks/${a.body.tasks[0].id}/missed`, { method: "PATCH" });
  assert.equal(missed.status, 200, missed.text);
  assert.equal(missed.body.status, "missed");
  assert.ok(missed.body.missed_at);
});

Deno.test("tasks: bad input is refused and writes nothing", async () => {
  const u = await plannerUser("Europe/Berlin");
  const count = () =>
    withDb(async (sql) =>
      (await sql`select count(*)::int as n from public.tasks where user_id = ${u.userId}`)[0].n
    );
  const before = await count();
  for (
    const json of [
      { title: "x", start_at: "tomorrow", duration_minutes: 10 },
      { title: "x", start_at: "2027-01-01T09:00", duration_minutes: 0 },
      { title: "x", start_at: "2027-01-01T09:00", duration_minutes: 10, timezone: "Mars/Olympus" },
      { title: "x", start_at: "2027-01-01T09:00", duration_minutes: 10, rrule: "FREQ=MINUTELY" },
      {
        title: "x",
        start_at: "2027-01-01T09:00",
        duration_minutes: 10,
        rrule: "FREQ=DAILY;BYDAY=XX",
      },
      { title: "", start_at: "2027-01-01T09:00", duration_minutes: 10 },
    ]
  ) {
    const res = await u.api("/tasks", { method: "POST", json });
    assert.ok(
      res.status === 400 || res.status === 422,
      `${JSON.stringify(json)}: ${res.status} ${res.text}`,
    );
    assert.ok(res.body.error?.code, res.text);
  }
  const goal = await u.api("/tasks", {
    method: "POST",
    json: {
      title: "x",
      start_at: "2027-01-01T09:00",
      duration_minutes: 10,
      goal_id: crypto.randomUUID(),
    },
  });
  assert.equal(goal.status, 404, goal.text);
  assert.equal((await u.api("/tasks?from=2027-01-01T00:00:00Z")).status, 400);
  assert.equal(await count(), before);
});
