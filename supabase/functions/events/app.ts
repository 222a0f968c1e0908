// GET /events, GET /events/{id}, DELETE /events/{id}: the caller's inbox events, for an inbox UI.
// Deleting an event removes its search index rows at once. See README "Inbox connectors".
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { ApiError } from "../_shared/http.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, route, uuidParams } from "../_shared/openapi.ts";
import { page, readCursor } from "../_shared/connectors/page.ts";
import { deleteEvent, getEvent, listEvents } from "../_shared/connectors/queries.ts";

export const app = createApp<AuthedEnv>("events");
app.use("*", requireUser, limitWrites());

const Source = z.enum(["slack", "outlook", "telegram", "calendar"]);
const Event = z.object({
  id: z.uuid(),
  source: Source,
  source_account_id: z.uuid().nullable(),
  external_id: z.string(),
  thread_id: z.uuid().nullable(),
  event_type: z.string(),
  title: z.string().nullable(),
  body: z.string().nullable(),
  url: z.string().nullable(),
  importance_score: z.number().int(),
  sender: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  occurred_at: z.string(),
  expires_at: z.string(),
  created_at: z.string(),
}).openapi("InboxEvent");

const ListQuery = z.strictObject({
  source: Source.optional(),
  thread: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  q: z.string().trim().min(1).max(200).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

// deno-lint-ignore no-explicit-any
const eventJson = (r: Record<string, any>) => ({
  id: r.id,
  source: r.source,
  source_account_id: r.source_account_id,
  external_id: r.external_id,
  thread_id: r.thread_id,
  event_type: r.event_type,
  title: r.title,
  body: r.body,
  url: r.url,
  importance_score: r.importance_score,
  sender: r.sender,
  occurred_at: r.occurred_at.toISOString(),
  expires_at: r.expires_at.toISOString(),
  created_at: r.created_at.toISOString(),
});

const list = route({
  method: "get",
  path: "/",
  summary: "The caller's events, newest first, filtered by source, thread, time and text",
  auth: "user",
  request: { query: ListQuery },
  responses: {
    200: json(
      z.object({ events: z.array(Event), next_cursor: z.string().nullable() }),
      "A page of events",
    ),
  },
  errors: { 400: "Bad query or cursor" },
});
app.openapi(list, async (c) => {
  const q = c.req.valid("query");
  const rows = await listEvents(c.get("user").claims, { ...q, after: readCursor(q.cursor) });
  const { items, next_cursor } = page(rows, q.limit, (r) => ({ t: r.occurred_at, id: r.id }));
  return c.json({ events: items.map(eventJson), next_cursor }, 200);
});

const get = route({
  method: "get",
  path: "/{id}",
  summary: "One event, with the platform's payload (raw)",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 200: json(Event.extend({ raw: z.record(z.string(), z.unknown()) }), "The event") },
  errors: { 400: "Invalid id", 404: "No such event" },
});
app.openapi(get, async (c) => {
  const row = await getEvent(c.get("user").claims, c.req.valid("param").id);
  if (!row) throw new ApiError(404, "not_found", "No such event");
  return c.json({ ...eventJson(row), raw: row.raw }, 200);
});

const remove = route({
  method: "delete",
  path: "/{id}",
  summary: "Delete an event now, with its search index rows",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 204: { description: "Deleted" } },
  errors: { 400: "Invalid id", 404: "No such event" },
});
app.openapi(remove, async (c) => {
  if (!(await deleteEvent(c.get("user").claims, c.req.valid("param").id))) {
    throw new ApiError(404, "not_found", "No such event");
  }
  return c.body(null, 204);
});
