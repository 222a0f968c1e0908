// The planner's pg_cron work, run as the jobs run it: the horizon job asks the tasks function
// (through pg_net, with the Vault secret) to extend series whose rows end near the horizon; the
// analytics refresh runs only after tasks changed, and once the interval has passed.
import assert from "node:assert/strict";
import { chatUser, withDb } from "../_support/chat.ts";
import { until } from "../_support/stack.ts";

Deno.test("horizon job: private.dispatch_planner_horizon extends a series through pg_net, idempotently", async () => {
  const u = await chatUser("horizon");
  const tomorrow = new Intl.DateTimeFormat("en-CA", { timeZone: "UTC" }).format(
    new Date(Date.now() + 86_400_000),
  );
  const created = await u.api("/tasks", {
    method: "POST",
    json: {
      title: "Water plants",
      start_at: `${tomorrow}T08:00`,
      timezone: "UTC",
      duration_minutes: 5,
      rrule: "FREQ=DAILY",
    },
  });
  assert.equal(created.status, 201, created.text);
  const series = created.body.series.id;
  const count = () =>
    withDb(async (sql) =>
      (await sql`select count(*)::int as n from public.tasks where series_id = ${series}`)[0]
        .n as number
    );
  const full = await count();
  // Pretend the last run was five days ago: only the first days' rows exist.
  await withDb(async (sql) => {
    await sql`delete from public.tasks where series_id = ${series} and scheduled_at > now() + interval '9 days'`;
    await sql`update public.task_series set materialized_through = now() + interval '9 days' where id = ${series}`;
  });
  const cut = await count();
  assert.ok(cut < full, `${cut} < ${full}`);
  const [{ due }] = await withDb((sql) => sql`select private.dispatch_planner_horizon() as due`);
  assert.ok(due >= 1);
  await until(
    "the horizon job to extend the series",
    async () => (await count()) === full ? true : null,
    20_000,
  );
  const [s] = await withDb((sql) =>
    sql`select materialized_through > now() + interval '13 days' as ok from public.task_series where id = ${series}`
  );
  assert.equal(s.ok, true);
  // Nothing is due any more for this series: another run adds nothing.
  await withDb((sql) => sql`select private.dispatch_planner_horizon()`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await count(), full);
});

Deno.test("analytics refresh: skipped within the interval; after it, tasks changed since are counted", async () => {
  await withDb(async (sql) => {
    await sql`select private.refresh_planner_analytics(true)`;
    const u = await chatUser("refresh");
    await sql`insert into public.tasks (user_id, title, status, scheduled_at, duration_minutes)
              values (${u.userId}, 'r', 'done', now() - interval '1 hour', 10)`;
    // Refreshed just now: within the interval the job does nothing.
    assert.equal((await sql`select private.refresh_planner_analytics() as r`)[0].r, false);
    // Once the interval has passed, the job refreshes (concurrently) and the new row is counted.
    await sql`update private.planner_analytics_state set refreshed_at = now() - interval '1 hour'`;
    await sql`select private.refresh_planner_analytics()`;
    const [row] =
      await sql`select planned, done from private.planner_weekly_stats where user_id = ${u.userId}`;
    assert.deepEqual({ ...row }, { planned: 1, done: 1 });
  });
});
