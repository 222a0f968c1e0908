// The planner's conversation (seed 001 4.2): POST /planner/messages streams the planner's reply
// like chat (UI message stream, or ?stream=simple) in a conversation of kind `planner`; a proposed
// plan arrives as a `data-plan` part and is saved only on approval, by POST
// /planner/plans/{id}/approve or by a reply the orchestrator recognises as accepting it.
// Resume, stop and history are the conversations API's (the conversation id is in `start`).
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { limitWrites } from "../_shared/limits.ts";
import { eventStream, json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";
import { notFound } from "../_shared/planner/errors.ts";
import { approvePlan, planPart, startTurn, type StoredPlan, streamResponse } from "../_shared/planner/turn.ts";

export const app = createApp<AuthedEnv>("planner");
app.use("*", requireUser);
app.use("*", limitWrites(/\/messages$/)); // messages are limited as chat (chatGate)

const Plan = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  goal_id: z.uuid().nullable(),
  version: z.int(),
  status: z.enum(["proposed", "approved", "rejected"]),
  plan: z.record(z.string(), z.unknown()).openapi({ description: "the data-plan part's data" }),
}).openapi("Plan");
const planJson = (p: StoredPlan) => {
  const part = planPart(p);
  return {
    id: p.id,
    conversation_id: p.conversation_id,
    goal_id: p.goal_id,
    version: p.version,
    status: p.status,
    plan: part.data as Record<string, unknown>,
  };
};

const send = route({
  method: "post",
  path: "/messages",
  summary: "Send a message to the planner; the reply streams (UI message stream or ?stream=simple)",
  auth: "user",
  request: {
    query: z.strictObject({ stream: z.enum(["ui", "simple"]).optional() }),
    body: jsonBody(z.strictObject({
      content: z.string().trim().min(1).max(20_000),
      conversation_id: z.uuid().optional().openapi({ description: "default: the latest planner conversation" }),
      client_message_id: z.string().min(1).max(200).optional(),
    }).openapi("PlannerMessage")),
  },
  responses: { 200: eventStream("The reply: text, and a `data-plan` part when a plan is proposed") },
  errors: { 400: "Invalid body", 402: "Over budget", 404: "No such planner conversation", 409: "Already sent", 429: "Rate limited" },
});
app.openapi(send, async (c) => {
  const { stream } = c.req.valid("query");
  const body = c.req.valid("json");
  const events = await startTurn(c, {
    content: body.content,
    conversationId: body.conversation_id,
    clientMessageId: body.client_message_id,
  });
  return streamResponse(stream, events);
});

const getPlan = route({
  method: "get",
  path: "/plans/{id}",
  summary: "A plan the planner proposed, at its latest version",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 200: json(Plan, "The plan") },
  errors: { 400: "Invalid id", 404: "No such plan" },
});
app.openapi(getPlan, async (c) => {
  const { id } = c.req.valid("param");
  const [p] = await asUser(c.get("user").claims, (tx) =>
    tx<StoredPlan[]>`select id, conversation_id, goal_id, version, status, content
                     from public.plans where id = ${id}`);
  if (!p) throw notFound("Plan");
  return c.json(planJson(p), 200);
});

const approve = route({
  method: "post",
  path: "/plans/{id}/approve",
  summary: "Approve a proposed plan: its goal, micro-goals and tasks are saved in one transaction",
  auth: "user",
  request: {
    params: uuidParams("id"),
    body: jsonBody(z.strictObject({ version: z.int().min(1).openapi({ description: "the version shown" }) })),
  },
  responses: { 200: json(Plan, "The approved plan, with its goal_id") },
  errors: { 400: "Invalid body", 404: "No such plan", 409: "Revised since, or no longer on offer", 422: "The plan cannot be saved" },
});
app.openapi(approve, async (c) => {
  const { id } = c.req.valid("param");
  const { version } = c.req.valid("json");
  const user = c.get("user");
  return c.json(planJson(await approvePlan(user.claims, user.id, id, version)), 200);
});
