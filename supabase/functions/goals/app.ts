// Goals (seed 001 4.3): list by status, one with its micro-goal pipeline and progress, its tasks,
// abandon (cancels its open tasks and series). Modifying a goal is a planner turn: PATCH
// /goals/{id}/modify starts one in the goal's planner conversation (see the planner function).
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, route, uuidParams } from "../_shared/openapi.ts";
import { notFound } from "../_shared/planner/errors.ts";
import { abandonGoal, Goal, GOAL_STATUSES, GoalWithPipeline, getGoal, listGoals } from "../_shared/planner/goals.ts";
import { plannerProfile } from "../_shared/planner/profile.ts";
import { Task, taskJson, type TaskRow } from "../_shared/planner/tasks.ts";
import { decodeCursor, encodeCursor } from "../_shared/validate.ts";
import { startTurn, streamResponse } from "../_shared/planner/turn.ts";
import { eventStream, jsonBody } from "../_shared/openapi.ts";

export const app = createApp<AuthedEnv>("goals");
app.use("*", requireUser);
app.use("*", limitWrites(/\/modify$/));

const ids = uuidParams("id");
const Cursor = z.strictObject({ t: z.string().max(64), id: z.uuid() });

const list = route({
  method: "get",
  path: "/",
  summary: "The user's goals, newest first",
  auth: "user",
  request: {
    query: z.strictObject({
      status: z.enum(GOAL_STATUSES).optional(),
      cursor: z.string().max(500).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
    }),
  },
  responses: {
    200: json(z.object({ goals: z.array(Goal), next_cursor: z.string().nullable() }).openapi("GoalList"), "The goals"),
  },
  errors: { 400: "Invalid query or cursor" },
});
app.openapi(list, async (c) => {
  const q = c.req.valid("query");
  const after = q.cursor ? decodeCursor(Cursor, q.cursor) : undefined;
  const page = await asUser(c.get("user").claims, (tx) => listGoals(tx, { status: q.status, after, limit: q.limit }));
  return c.json({
    goals: page.goals,
    next_cursor: page.more && page.lastKey ? encodeCursor(page.lastKey) : null,
  }, 200);
});

const getOne = route({
  method: "get",
  path: "/{id}",
  summary: "A goal with its micro-goals and progress",
  auth: "user",
  request: { params: ids },
  responses: { 200: json(GoalWithPipeline, "The goal") },
  errors: { 400: "Invalid id", 404: "No such goal" },
});
app.openapi(getOne, async (c) => {
  const { id } = c.req.valid("param");
  const goal = await asUser(c.get("user").claims, (tx) => getGoal(tx, id));
  if (!goal) throw notFound("Goal");
  return c.json(goal, 200);
});

const tasks = route({
  method: "get",
  path: "/{id}/tasks",
  summary: "A goal's tasks (stored rows), by start",
  auth: "user",
  request: { params: ids },
  responses: { 200: json(z.object({ tasks: z.array(Task) }), "The tasks (at most 1,000)") },
  errors: { 400: "Invalid id", 404: "No such goal" },
});
app.openapi(tasks, async (c) => {
  const { id } = c.req.valid("param");
  const user = c.get("user");
  const { timeZone } = await plannerProfile(user.id);
  const rows = await asUser(user.claims, async (tx) => {
    const [goal] = await tx`select id from public.goals where id = ${id}`;
    if (!goal) throw notFound("Goal");
    return await tx<TaskRow[]>`select * from public.tasks where goal_id = ${id}
                               order by scheduled_at nulls last, created_at limit 1000`;
  });
  return c.json({ tasks: rows.map((r) => taskJson(r, timeZone)) }, 200);
});

const abandon = route({
  method: "patch",
  path: "/{id}/abandon",
  summary: "Abandon a goal: its open and snoozed tasks are cancelled, its series end",
  auth: "user",
  request: { params: ids },
  responses: { 200: json(z.object({ goal: GoalWithPipeline, cancelled_tasks: z.int() }), "The goal") },
  errors: { 400: "Invalid id", 404: "No such goal", 409: "The goal is not active" },
});
app.openapi(abandon, async (c) => {
  const { id } = c.req.valid("param");
  const result = await asUser(c.get("user").claims, async (tx) => {
    const done = await abandonGoal(tx, id);
    if (!done) throw notFound("Goal");
    return { goal: (await getGoal(tx, id))!, cancelled_tasks: done.cancelled_tasks };
  });
  return c.json(result, 200);
});

const modify = route({
  method: "patch",
  path: "/{id}/modify",
  summary: "Start a planner turn that revises this goal (streams like POST /planner/messages)",
  auth: "user",
  request: {
    params: ids,
    query: z.strictObject({ stream: z.enum(["ui", "simple"]).optional() }),
    body: jsonBody(z.strictObject({
      content: z.string().trim().min(1).max(20_000).openapi({ description: "what to change" }),
      conversation_id: z.uuid().optional(),
      client_message_id: z.string().min(1).max(200).optional(),
    })),
  },
  responses: { 200: eventStream("The planner's reply, with a revised `data-plan` part") },
  errors: { 400: "Invalid body", 402: "Over budget", 404: "No such goal", 429: "Rate limited" },
});
app.openapi(modify, async (c) => {
  const { id } = c.req.valid("param");
  const { stream } = c.req.valid("query");
  const body = c.req.valid("json");
  const goal = await asUser(c.get("user").claims, (tx) => getGoal(tx, id));
  if (!goal) throw notFound("Goal");
  const events = await startTurn(c, {
    content: body.content,
    conversationId: body.conversation_id ?? goal.conversation_id ?? undefined,
    clientMessageId: body.client_message_id,
    goalId: id,
  });
  return streamResponse(stream, events);
});
