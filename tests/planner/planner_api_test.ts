// Calendar CRUD, analytics matching the rows they summarise, patterns (observed, confirmed,
// overridden, deleted), the location demo, planner preferences in PATCH /account/me, and the
// planner conversation's context windowing, against the stack.
import assert from "node:assert/strict";
import {
  chatUser,
  marker,
  providerRequests,
  queueScript,
  readSse,
  withDb,
} from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

async function zoned(zone: string) {
  const u = await chatUser("plannerapi");
  await withDb((sql) => sql`update public.profiles set timezone = ${zone} where id = ${u.userId}`);
  return u;
}

Deno.test("calendar: create, list a range, change, delete; end after start; others see nothing", async () => {
  const u = await zoned("UTC");
  const other = await zoned("UTC");
  const bad = await u.api("/calendar/events", {
    method: "POST",
    json: { title: "Backwards", start_at: "2027-01-15T15:00:00Z", end_at: "2027-01-15T14:00:00Z" },
  });
  assert.equal(bad.status, 400, bad.text);
  const created = await u.api("/calendar/events", {
    method: "POST",
    json: {
      title: "Team Meeting",
      description: "Weekly sync",
      start_at: "2027-01-15T14:00:00Z",
      end_at: "2027-01-15T15:00:00Z",
      location: "Room A",
    },
  });
  assert.equal(created.status, 201, created.text);
  const ev = created.body;
  assert.deepEqual(
    {
      title: ev.title,
      description: ev.description,
      start_at: ev.start_at,
      end_at: ev.end_at,
      location: ev.location,
    },
    {
      title: "Team Meeting",
      description: "Weekly sync",
      start_at: "2027-01-15T14:00:00.000Z",
      end_at: "2027-01-15T15:00:00.000Z",
      location: "Room A",
    },
  );
  await u.api("/calendar/events", {
    method: "POST",
    json: { title: "Later", start_at: "2027-02-01T10:00:00Z", end_at: "2027-02-01T11:00:00Z" },
  });
  const list = await u.api(
    "/calendar/events?start_at=2027-01-15T00:00:00Z&end_at=2027-01-20T23:59:59Z",
  );
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.total, 1);
  assert.deepEqual(list.body.events.map((e: { id: string }) => e.id), [ev.id]);
  const moved = await u.api(`/calendar/events/${ev.id}`, {
    method: "PUT",
    json: { end_at: "2027-01-15T16:00:00Z", location: null },
  });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.body.end_at, "2027-01-15T16:00:00.000Z");
  assert.equal(moved.body.location, null);
  assert.equal(moved.body.title, "Team Meeting");
  const backwards = await u.api(`/calendar/events/${ev.id}`, {
    method: "PUT",
    json: { end_at: "2027-01-15T13:00:00Z" },
  });
  assert.equal(backwards.status, 422, backwards.text);
  assert.equal(
    (await other.api(`/calendar/events/${ev.id}`, { method: "PUT", json: { title: "mine" } }))
      .status,
    404,
  );
  assert.equal((await other.api(`/calendar/events/${ev.id}`, { method: "DELETE" })).status, 404);
  assert.equal(
    (await other.api("/calendar/events?start_at=2027-01-01T00:00:00Z&end_at=2027-12-31T00:00:00Z"))
      .body.total,
    0,
  );
  assert.equal((await u.api(`/calendar/events/${ev.id}`, { method: "DELETE" })).status, 204);
  assert.equal((await u.api(`/calendar/events/${ev.id}`, { method: "DELETE" })).status, 404);
});

Deno.test("analytics: weekly stats, misses by category, heatmap and streak match the task rows, in the user's zone", async () => {
  const u = await zoned("America/New_York");
  const other = await zoned("UTC");
  // Five days up to yesterday (local), 09:00 New York: done, done, missed, done, done; one cancelled.
  const day = (offset: number) =>
    new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York" })
      .format(new Date(Date.now() + offset * 86_400_000));
  const rows = [
    [-5, "done", ["health"]],
    [-4, "done", ["health"]],
    [-3, "missed", ["learning"]],
    [-2, "done", ["learning"]],
    [-1, "done", []],
    [-1, "cancelled", ["health"]],
  ] as const;
  await withDb(async (sql) => {
    for (const [offset, status, categories] of rows) {
      await sql`insert into public.tasks (user_id, title, status, categories, scheduled_at, duration_minutes)
                values (${u.userId}, 'a', ${status}, ${categories as unknown as string[]},
                        (${`${
        day(offset)
      } 09:00`}::timestamp at time zone 'America/New_York'), 30)`;
    }
    await sql`insert into public.tasks (user_id, title, status, scheduled_at, duration_minutes)
              values (${other.userId}, 'theirs', 'missed', now() - interval '1 day', 30)`;
    await sql`select private.refresh_planner_analytics(true)`;
  });
  const overview = await u.api("/analytics/overview");
  assert.equal(overview.status, 200, overview.text);
  assert.equal(overview.body.streak_days, 2, "done the last two days, missed before");
  assert.equal(overview.body.time_zone, "America/New_York");
  const cells = overview.body.heatmap;
  assert.ok(cells.every((c: { hour: number }) => c.hour === 9), JSON.stringify(cells));
  assert.equal(cells.reduce((n: number, c: { planned: number }) => n + c.planned, 0), 5);
  assert.equal(cells.reduce((n: number, c: { missed: number }) => n + c.missed, 0), 1);

  const byCat = (await u.api("/analytics/missed-by-cat")).body.categories;
  assert.deepEqual(
    byCat.map((
      c: { category: string; planned: number; missed: number },
    ) => [c.category, c.planned, c.missed]),
    [["learning", 2, 1], ["health", 2, 0], ["uncategorized", 1, 0]],
  );
  const weeks = (await u.api("/analytics/weekly?weeks=2")).body.weeks;
  assert.equal(weeks.reduce((n: number, w: { planned: number }) => n + w.planned, 0), 5);
  assert.equal(weeks.reduce((n: number, w: { done: number }) => n + w.done, 0), 4);
  // Another user's rows never show up, through the API or PostgREST.
  const theirs = (await other.api("/analytics/missed-by-cat")).body.categories;
  assert.deepEqual(theirs.map((c: { category: string }) => c.category), ["uncategorized"]);
  assert.equal((await u.api("/analytics/weekly?weeks=0")).status, 400);
});

Deno.test("patterns: the observer's findings after misses; confirm, override (no longer avoided), delete", async () => {
  const u = await zoned("Europe/Berlin");
  // Twelve finished tasks: Mondays 07:00 Berlin missed.
  await withDb(async (sql) => {
    for (let i = 1; i <= 12; i++) {
      const missed = i <= 4;
      await sql`insert into public.tasks (user_id, title, status, scheduled_at, duration_minutes)
                values (${u.userId}, 'p', ${missed ? "missed" : "done"},
                        ${
        missed
          ? sql`(date_trunc('week', now() at time zone 'Europe/Berlin') - make_interval(weeks => ${i}) + interval '7 hours') at time zone 'Europe/Berlin'`
          : sql`now() - make_interval(days => ${i})`
      }, 30)`;
    }
  });
  const task = await u.api("/tasks", {
    method: "POST",
    json: { title: "x", start_at: "2030-01-01T10:00", duration_minutes: 10 },
  });
  assert.equal(
    (await u.api(`/tasks/${task.body.tasks[0].id}/missed`, { method: "PATCH" })).status,
    200,
  );
  const list = await (async () => {
    for (let i = 0; i < 50; i++) {
      const r = await u.api("/patterns?kind=missed_slot");
      if (r.body.patterns.length) return r.body.patterns;
      await new Promise((r) => setTimeout(r, 100));
    }
    return [];
  })();
  assert.equal(list.length, 1, "the miss triggered the observer");
  const p = list[0];
  assert.equal(p.key, "mon-07");
  assert.equal((await u.api(`/patterns/${p.id}`)).body.sample_size, 4);
  const confirmed = await u.api(`/patterns/${p.id}`, {
    method: "PATCH",
    json: { status: "confirmed" },
  });
  assert.equal(confirmed.body.status, "confirmed");
  const overridden = await u.api(`/patterns/${p.id}`, {
    method: "PATCH",
    json: { status: "overridden", override: { avoid: false } },
  });
  assert.deepEqual(overridden.body.override, { avoid: false });
  assert.equal(
    (await u.api(`/patterns/${p.id}`, {
      method: "PATCH",
      json: { status: "confirmed", override: {} },
    })).status,
    400,
  );
  const other = await zoned("UTC");
  assert.equal((await other.api(`/patterns/${p.id}`)).status, 404);
  assert.equal((await other.api(`/patterns/${p.id}`, { method: "DELETE" })).status, 404);
  assert.equal((await u.api(`/patterns/${p.id}`, { method: "DELETE" })).status, 204);
  assert.equal((await u.api(`/patterns/${p.id}`)).status, 404);
});

Deno.test("demo: arriving at a place starts its open tasks now, so their reminder is due at once", async () => {
  const u = await zoned("Europe/Berlin");
  const t = await u.api("/tasks", {
    method: "POST",
    json: {
      title: "Buy milk",
      start_at: "2030-06-01T10:00",
      duration_minutes: 10,
      place: "Supermarket",
    },
  });
  await u.api("/tasks", {
    method: "POST",
    json: { title: "Elsewhere", start_at: "2030-06-01T10:00", duration_minutes: 10, place: "Gym" },
  });
  const before = Date.now();
  const r = await u.api("/demo/trigger-location", {
    method: "POST",
    json: { place: "supermarket" },
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.triggered.map((x: { id: string }) => x.id), [t.body.tasks[0].id]);
  const start = Date.parse(r.body.triggered[0].scheduled_at);
  // The default reminder lead is 10 minutes: the start is now + 10 min, the first reminder now.
  assert.ok(
    start >= before + 10 * 60_000 - 1000 && start <= Date.now() + 10 * 60_000 + 1000,
    r.text,
  );
  assert.equal(
    (await u.api("/demo/trigger-location", { method: "POST", json: { place: "" } })).status,
    400,
  );
});

Deno.test("account: planner preferences are validated in PATCH /account/me and in the database", async () => {
  const u = await zoned("UTC");
  const good = {
    working_hours: { start: "08:30", end: "17:00", days: [1, 2, 3, 4, 5] },
    quiet_hours: { start: "22:00", end: "07:00" },
    reminder_lead_minutes: 15,
    escalation_window_minutes: 10,
    theme: "dark",
  };
  const ok = await u.api("/account/me", { method: "PATCH", json: { preferences: good } });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body.preferences, good);
  for (
    const bad of [
      { working_hours: { start: "18:00", end: "09:00", days: [1] } },
      { working_hours: { start: "9am", end: "17:00", days: [1] } },
      { quiet_hours: { start: "22:00", end: "22:00" } },
      { reminder_lead_minutes: -5 },
      { escalation_window_minutes: "five" },
    ]
  ) {
    const res = await u.api("/account/me", { method: "PATCH", json: { preferences: bad } });
    assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.text}`);
  }
  // PostgREST writes meet the same rule in the database.
  const rest = await fetch(
    `${FUNCTIONS_URL.replace("/functions/v1", "/rest/v1")}/profiles?id=eq.${u.userId}`,
    {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${u.token}`,
        "content-type": "application/json",
        apikey: u.token,
      },
      body: JSON.stringify({ preferences: { reminder_lead_minutes: "soon" } }),
    },
  );
  assert.equal(rest.status, 400, await rest.text());
  const [row] = await withDb((sql) =>
    sql`select preferences from public.profiles where id = ${u.userId}`
  );
  assert.deepEqual(row.preferences, good);
});

Deno.test("planner: a long planner conversation is windowed to the model's context with a stored summary", async () => {
  const u = await zoned("UTC");
  const alias = marker("tiny");
  await withDb(async (sql) => {
    await sql`insert into public.models (alias, provider, provider_model, display_name, context_window, max_output_tokens)
              values (${alias}, 'anthropic', 'claude-sonnet-4-6', 'Tiny window', 3000, 500)`;
    await sql`insert into public.model_prices (model_alias, effective_from, input_per_mtok, output_per_mtok, cached_read_per_mtok, cache_write_per_mtok)
              values (${alias}, '2020-01-01', 1, 1, 0, 0)`;
  });
  const [conv] = await withDb((sql) =>
    sql`insert into public.conversations (user_id, kind, title, model)
                                           values (${u.userId}, 'planner', 'Planner', ${alias}) returning id`
  );
  const long = "I like to plan my weeks carefully and think about every detail. ".repeat(60); // ~1000 tokens
  for (let i = 0; i < 3; i++) {
    const tag = marker(`turn${i}`);
    await queueScript("anthropic", {
      text: JSON.stringify({
        intent: "small_talk",
        approves_plan: false,
        goal_id: null,
        reply: `ok ${i}`,
      }),
    }, { contains: tag });
    const res = await fetch(`${FUNCTIONS_URL}/planner/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${u.token}`, "content-type": "application/json" },
      body: JSON.stringify({ content: `${tag} ${long}`, conversation_id: conv.id }),
    });
    assert.equal(res.status, 200);
    await readSse(res);
  }
  const [c] = await withDb((sql) =>
    sql`select summary, summary_through_id from public.conversations where id = ${conv.id}`
  );
  assert.ok(c.summary && c.summary_through_id, "a summary of the dropped turns was stored");
  const [last] = await providerRequests("anthropic", "turn2");
  assert.ok(last, "the last turn reached the provider");
  const steps = await withDb((sql) =>
    sql`select distinct product_step from public.usage_ledger where conversation_id = ${conv.id} order by 1`
  );
  assert.deepEqual(steps.map((s) => s.product_step), ["planner.orchestrator", "summary"]);
});
