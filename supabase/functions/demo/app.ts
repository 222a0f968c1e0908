// Seed 001's location demo: POST /demo/trigger-location {place} simulates the user arriving at a
// place. Each open task bound to that place (tasks.place, case-insensitive) starts now: its start
// moves to now plus the user's reminder lead, so the reminder chain (whose first stage is due at
// start minus lead) sends its first reminder at once.
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route } from "../_shared/openapi.ts";
import { plannerProfile } from "../_shared/planner/profile.ts";
import { moveTask, Task, taskJson, tasksAtPlace } from "../_shared/planner/tasks.ts";

export const app = createApp<AuthedEnv>("demo");
app.use("*", requireUser);
app.use("*", limitWrites());

const triggerLocation = route({
  method: "post",
  path: "/trigger-location",
  summary: "Simulate arriving at a place: its open tasks start now and their reminders go out",
  auth: "user",
  request: { body: jsonBody(z.strictObject({ place: z.string().trim().min(1).max(200) })) },
  responses: { 200: json(z.object({ place: z.string(), triggered: z.array(Task) }), "The tasks started") },
  errors: { 400: "Invalid body" },
});
app.openapi(triggerLocation, async (c) => {
  const { place } = c.req.valid("json");
  const user = c.get("user");
  const { timeZone, preferences } = await plannerProfile(user.id);
  const startAt = Date.now() + preferences.reminder_lead_minutes * 60_000;
  const triggered = await asUser(user.claims, async (tx) => {
    const tasks = await tasksAtPlace(tx, place);
    const moved = [];
    for (const t of tasks) {
      const row = await moveTask(tx, t.id, startAt, t.time_zone ?? timeZone);
      if (row) moved.push(taskJson(row, timeZone));
    }
    return moved;
  });
  return c.json({ place, triggered }, 200);
});
