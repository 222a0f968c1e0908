// The SDK's planner families against the live stack: tasks (one-off and today's), the
// calendar, goals, analytics and patterns.
import assert from "node:assert/strict";
import { withDb } from "../_support/chat.ts";
import { userClient } from "./helpers.ts";

Deno.test("planner: tasks created, completed and deleted; calendar events; goals, analytics, patterns", async () => {
  const { aide, userId } = await userClient("planner");
  const { tasks: [task] } = await aide.tasks.create({
    title: "Buy milk",
    start_at: "2030-06-01T10:00",
    duration_minutes: 10,
  });
  assert.equal(task.title, "Buy milk");
  const id = task.id!; // null only for occurrences of a series not stored yet
  assert.equal((await aide.tasks.get(id)).id, id);
  await aide.tasks.complete(id);
  const [stored] = await withDb((sql) =>
    sql`select status, user_id from public.tasks where id = ${id}`
  );
  assert.deepEqual([stored.status, stored.user_id], ["done", userId]);
  await aide.tasks.delete(id);
  assert.equal(
    (await withDb((sql) => sql`select 1 from public.tasks where id = ${id}`)).length,
    0,
  );
  assert.ok(Array.isArray((await aide.tasks.today()).tasks));

  const event = await aide.calendar.create({
    title: "Standup",
    start_at: "2030-06-01T09:00:00Z",
    end_at: "2030-06-01T09:15:00Z",
  });
  const listed = await aide.calendar.list({
    start_at: "2030-06-01T00:00:00Z",
    end_at: "2030-06-02T00:00:00Z",
  });
  assert.deepEqual(listed.events.map((e) => e.id), [event.id]);
  await aide.calendar.delete(event.id);

  assert.deepEqual((await aide.goals.list()).goals, []);
  assert.equal(typeof (await aide.analytics.overview()), "object");
  assert.ok(Array.isArray((await aide.patterns.list()).patterns));
});
