// The caller's summaries (made by POST /prompts and by digests): list, read, delete.
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { deleteSummary, listSummaries, summaryById } from "../_shared/inbox/queries.ts";
import { PageQuery, SummarySchema } from "../_shared/inbox/schemas.ts";
import { iso, type SummaryRow } from "../_shared/inbox/types.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, route, uuidParams } from "../_shared/openapi.ts";

export const app = createApp<AuthedEnv>("summaries");
app.use("*", requireUser);
app.use("*", limitWrites());

const summaryJson = (s: SummaryRow): z.infer<typeof SummarySchema> => ({
  id: s.id,
  window_start: iso(s.window_start),
  window_end: iso(s.window_end),
  sources: s.sources,
  topic: s.topic,
  content: s.content_json,
  source_refs: s.source_refs,
  meta: s.meta,
  created_at: iso(s.created_at),
  updated_at: iso(s.updated_at),
});

const list = route({
  method: "get",
  path: "/",
  summary: "The caller's summaries, newest first",
  auth: "user",
  request: { query: z.strictObject(PageQuery) },
  responses: {
    200: json(
      z.object({ summaries: z.array(SummarySchema), next_cursor: z.string().nullable() }),
      "A page of summaries",
    ),
  },
  errors: { 400: "Invalid query parameters or cursor" },
});

app.openapi(list, async (c) => {
  const page = await asUser(c.get("user").claims, (tx) => listSummaries(tx, c.req.valid("query")));
  return c.json({ summaries: page.items.map(summaryJson), next_cursor: page.next_cursor }, 200);
});

const get = route({
  method: "get",
  path: "/{id}",
  summary: "One summary",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 200: json(SummarySchema, "The summary") },
  errors: { 400: "Invalid id", 404: "Not found" },
});

app.openapi(get, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(summaryJson(await asUser(c.get("user").claims, (tx) => summaryById(tx, id))), 200);
});

const remove = route({
  method: "delete",
  path: "/{id}",
  summary: "Delete a summary",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 204: { description: "Deleted" } },
  errors: { 400: "Invalid id", 404: "Not found", 429: "Rate limited" },
});

app.openapi(remove, async (c) => {
  const { id } = c.req.valid("param");
  await asUser(c.get("user").claims, (tx) => deleteSummary(tx, id));
  return c.body(null, 204);
});
