// The in-app calendar (seed 004 5.5): events in a range, create, change, delete. The planner's
// scheduler treats these events as busy time. Queries: _shared/planner/calendar.ts.
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";
import {
  CalendarCursor,
  CalendarEvent,
  CalendarEventBody,
  CalendarEventList,
  CalendarEventPatch,
  CalendarRange,
  createCalendarEvent,
  deleteCalendarEvent,
  listCalendarEvents,
  updateCalendarEvent,
} from "../_shared/planner/calendar.ts";
import { notFound, refusalsAsApiErrors } from "../_shared/planner/errors.ts";
import { decodeCursor, encodeCursor } from "../_shared/validate.ts";

export const app = createApp<AuthedEnv>("calendar");
app.use("*", requireUser);
app.use("*", limitWrites());

const listEvents = route({
  method: "get",
  path: "/events",
  summary: "Calendar events overlapping a time range",
  auth: "user",
  request: { query: CalendarRange },
  responses: { 200: json(CalendarEventList, "The events, by start time") },
  errors: { 400: "Invalid range or cursor" },
});
app.openapi(listEvents, async (c) => {
  const q = c.req.valid("query");
  const after = q.cursor ? decodeCursor(CalendarCursor, q.cursor) : undefined;
  const page = await asUser(
    c.get("user").claims,
    (tx) => listCalendarEvents(tx, { start: q.start_at, end: q.end_at, after, limit: q.limit }),
  );
  const last = page.events.at(-1);
  return c.json({
    events: page.events,
    total: page.total,
    next_cursor: page.more && last ? encodeCursor({ s: last.start_at, id: last.id }) : null,
  }, 200);
});

const createEvent = route({
  method: "post",
  path: "/events",
  summary: "Create a calendar event",
  auth: "user",
  request: { body: jsonBody(CalendarEventBody) },
  responses: { 201: json(CalendarEvent, "The event") },
  errors: { 400: "Invalid body (end_at must be after start_at)" },
});
app.openapi(createEvent, async (c) => {
  const body = c.req.valid("json");
  const user = c.get("user");
  const event = await asUser(user.claims, (tx) => createCalendarEvent(tx, user.id, body));
  return c.json(event, 201);
});

const updateEvent = route({
  method: "put",
  path: "/events/{id}",
  summary: "Change a calendar event (the fields given)",
  auth: "user",
  request: { params: uuidParams("id"), body: jsonBody(CalendarEventPatch) },
  responses: { 200: json(CalendarEvent, "The event") },
  errors: { 400: "Invalid body", 404: "No such event", 422: "end_at would not be after start_at" },
});
app.openapi(updateEvent, async (c) => {
  const { id } = c.req.valid("param");
  const patch = c.req.valid("json");
  const event = await refusalsAsApiErrors(() =>
    asUser(c.get("user").claims, (tx) => updateCalendarEvent(tx, id, patch))
  );
  if (!event) throw notFound("Calendar event");
  return c.json(event, 200);
});

const deleteEvent = route({
  method: "delete",
  path: "/events/{id}",
  summary: "Delete a calendar event",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 204: { description: "Deleted" } },
  errors: { 400: "Invalid id", 404: "No such event" },
});
app.openapi(deleteEvent, async (c) => {
  const { id } = c.req.valid("param");
  if (!(await asUser(c.get("user").claims, (tx) => deleteCalendarEvent(tx, id)))) {
    throw notFound("Calendar event");
  }
  return c.body(null, 204);
});
