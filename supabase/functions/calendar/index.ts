// The in-app calendar (seed 004 5.5): list events in a range, create, replace fields, delete.
// The planner's scheduler treats these events as busy time. Queries: _shared/planner/calendar.ts.
import type { Context } from "hono";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { createApp } from "../_shared/http.ts";
import { limitWrites } from "../_shared/limits.ts";
import type { Operation } from "../_shared/openapi.ts";
import {
  CalendarCursor,
  CalendarEventBody,
  CalendarEventPatch,
  CalendarRange,
  createCalendarEvent,
  deleteCalendarEvent,
  listCalendarEvents,
  updateCalendarEvent,
} from "../_shared/planner/calendar.ts";
import { notFound, refusalsAsApiErrors } from "../_shared/planner/errors.ts";
import { decodeCursor, encodeCursor, jsonBody, query, uuidParam } from "../_shared/validate.ts";

const app = createApp<AuthedEnv>("calendar");
type C = Context<AuthedEnv>;
const claims = (c: C) => c.get("user").claims;

app.use("*", requireUser);
app.use("*", limitWrites());

app.get("/events", async (c) => {
  const q = query(c, CalendarRange);
  const after = q.cursor ? decodeCursor(CalendarCursor, q.cursor) : undefined;
  const page = await asUser(
    claims(c),
    (tx) => listCalendarEvents(tx, { start: q.start_at, end: q.end_at, after, limit: q.limit }),
  );
  const last = page.events.at(-1);
  return c.json({
    events: page.events,
    total: page.total,
    next_cursor: page.more && last ? encodeCursor({ s: last.start_at, id: last.id }) : null,
  });
});

app.post("/events", async (c) => {
  const body = await jsonBody(c, CalendarEventBody);
  const event = await asUser(claims(c), (tx) => createCalendarEvent(tx, c.get("user").id, body));
  return c.json(event, 201);
});

app.put("/events/:id", async (c) => {
  const id = uuidParam(c, "id");
  const patch = await jsonBody(c, CalendarEventPatch);
  const event = await refusalsAsApiErrors(() =>
    asUser(claims(c), (tx) => updateCalendarEvent(tx, id, patch))
  );
  if (!event) throw notFound("Calendar event");
  return c.json(event);
});

app.delete("/events/:id", async (c) => {
  const id = uuidParam(c, "id");
  if (!(await asUser(claims(c), (tx) => deleteCalendarEvent(tx, id)))) {
    throw notFound("Calendar event");
  }
  return c.body(null, 204);
});

/** This function's operations, for the OpenAPI document (npm run openapi). */
export const operations: Operation[] = [
  {
    method: "GET",
    path: "/events",
    summary: "Calendar events overlapping a time range",
    auth: "user",
    query: CalendarRange,
    responses: { 200: "`{events, total, next_cursor}`", 400: "Invalid range", 401: "Not signed in" },
  },
  {
    method: "POST",
    path: "/events",
    summary: "Create a calendar event",
    auth: "user",
    body: CalendarEventBody,
    responses: { 201: "The event", 400: "Invalid body (end_at must be after start_at)", 401: "Not signed in" },
  },
  {
    method: "PUT",
    path: "/events/:id",
    summary: "Change a calendar event's fields",
    auth: "user",
    body: CalendarEventPatch,
    responses: { 200: "The event", 400: "Invalid body", 404: "No such event", 422: "end_at would not be after start_at" },
  },
  {
    method: "DELETE",
    path: "/events/:id",
    summary: "Delete a calendar event",
    auth: "user",
    responses: { 204: "Deleted", 404: "No such event" },
  },
];

export { app };
Deno.serve(app.fetch);
