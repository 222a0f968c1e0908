// Notes CRUD (/notes): the user's own notes, searchable with events and documents
// (hybrid_search, object type "note"). See README "Inbox connectors".
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { ApiError } from "../_shared/http.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";
import { page, readCursor } from "../_shared/connectors/page.ts";
import {
  createNote,
  deleteNote,
  getNote,
  listNotes,
  type NoteRow,
  updateNote,
} from "../_shared/notes/queries.ts";

export const app = createApp<AuthedEnv>("notes");
app.use("*", requireUser, limitWrites());

/** Largest note text (also the database's limit). */
export const MAX_NOTE_BYTES = 200_000;
const body = z.string().min(1).refine(
  (s) => new TextEncoder().encode(s).length <= MAX_NOTE_BYTES,
  `at most ${MAX_NOTE_BYTES} bytes`,
);
const title = z.string().trim().min(1).max(300).nullable();

const Note = z.object({
  id: z.uuid(),
  title: z.string().nullable(),
  body: z.string(),
  index_status: z.enum(["queued", "processing", "done", "dead"]).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Note");

const noteJson = (r: NoteRow) => ({
  id: r.id,
  title: r.title,
  body: r.body,
  index_status: r.index_status as z.infer<typeof Note>["index_status"],
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});
const notFound = () => new ApiError(404, "not_found", "No such note");

const list = route({
  method: "get",
  path: "/",
  summary: "The caller's notes, most recently changed first; q matches title and text",
  auth: "user",
  request: {
    query: z.strictObject({
      q: z.string().trim().min(1).max(200).optional(),
      cursor: z.string().max(500).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
    }),
  },
  responses: {
    200: json(
      z.object({ notes: z.array(Note), next_cursor: z.string().nullable() }),
      "A page of notes",
    ),
  },
  errors: { 400: "Bad query or cursor" },
});
app.openapi(list, async (c) => {
  const q = c.req.valid("query");
  const rows = await listNotes(c.get("user").claims, { ...q, after: readCursor(q.cursor) });
  const { items, next_cursor } = page(rows, q.limit, (r) => ({ t: r.updated_at, id: r.id }));
  return c.json({ notes: items.map(noteJson), next_cursor }, 200);
});

const create = route({
  method: "post",
  path: "/",
  summary: "Create a note (indexed for search)",
  auth: "user",
  request: { body: jsonBody(z.strictObject({ title: title.optional(), body })) },
  responses: { 201: json(Note, "The note") },
  errors: { 400: "Invalid body", 413: "Body too large", 415: "Not JSON", 429: "Rate limited" },
  bodyLimit: MAX_NOTE_BYTES + 10_000,
});
app.openapi(
  create,
  async (c) => c.json(noteJson(await createNote(c.get("user").claims, c.req.valid("json"))), 201),
);

const get = route({
  method: "get",
  path: "/{id}",
  summary: "One note",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 200: json(Note, "The note") },
  errors: { 400: "Invalid id", 404: "No such note" },
});
app.openapi(get, async (c) => {
  const row = await getNote(c.get("user").claims, c.req.valid("param").id);
  if (!row) throw notFound();
  return c.json(noteJson(row), 200);
});

const update = route({
  method: "patch",
  path: "/{id}",
  summary: "Change a note's title or text (re-indexed when the text changes)",
  auth: "user",
  request: {
    params: uuidParams("id"),
    body: jsonBody(
      z.strictObject({ title: title.optional(), body: body.optional() })
        .refine((b) => Object.keys(b).length > 0, "Send title or body"),
    ),
  },
  responses: { 200: json(Note, "The note") },
  errors: {
    400: "Invalid id or body",
    404: "No such note",
    429: "Rate limited",
  },
  bodyLimit: MAX_NOTE_BYTES + 10_000,
});
app.openapi(update, async (c) => {
  const row = await updateNote(c.get("user").claims, c.req.valid("param").id, c.req.valid("json"));
  if (!row) throw notFound();
  return c.json(noteJson(row), 200);
});

const remove = route({
  method: "delete",
  path: "/{id}",
  summary: "Delete a note and its search index rows",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 204: { description: "Deleted" } },
  errors: { 400: "Invalid id", 404: "No such note", 429: "Rate limited" },
});
app.openapi(remove, async (c) => {
  if (!(await deleteNote(c.get("user").claims, c.req.valid("param").id))) throw notFound();
  return c.body(null, 204);
});
