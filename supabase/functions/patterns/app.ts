// Patterns the observer found in the user's history (seed 001 4.6): list, read, confirm or
// override (the observer then leaves it as set; an overridden missed slot is no longer avoided),
// delete. Queries: _shared/planner/patterns.ts.
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";
import { notFound } from "../_shared/planner/errors.ts";
import {
  deletePattern,
  getPattern,
  listPatterns,
  Pattern,
  updatePattern,
} from "../_shared/planner/patterns.ts";

export const app = createApp<AuthedEnv>("patterns");
app.use("*", requireUser);
app.use("*", limitWrites());

const ids = uuidParams("id");
const PatternList = z.object({ patterns: z.array(Pattern) }).openapi("PatternList");
const PatternChange = z.strictObject({
  status: z.enum(["observed", "confirmed", "overridden"]),
  override: z.record(z.string(), z.unknown()).refine((o) => JSON.stringify(o).length <= 4000, "at most 4,000 characters")
    .optional().openapi({ description: "what to use instead, with status overridden" }),
}).refine((b) => b.status === "overridden" || b.override === undefined, "override goes with status overridden")
  .openapi("PatternChange");

const list = route({
  method: "get",
  path: "/",
  summary: "The user's observed patterns, by kind and confidence",
  auth: "user",
  request: { query: z.strictObject({ kind: Pattern.shape.kind.optional() }) },
  responses: { 200: json(PatternList, "The patterns (at most 500)") },
  errors: { 400: "Invalid query" },
});
app.openapi(list, async (c) => {
  const { kind } = c.req.valid("query");
  const patterns = await asUser(c.get("user").claims, (tx) => listPatterns(tx, kind));
  return c.json({ patterns }, 200);
});

const getOne = route({
  method: "get",
  path: "/{id}",
  summary: "One pattern",
  auth: "user",
  request: { params: ids },
  responses: { 200: json(Pattern, "The pattern") },
  errors: { 400: "Invalid id", 404: "No such pattern" },
});
app.openapi(getOne, async (c) => {
  const { id } = c.req.valid("param");
  const pattern = await asUser(c.get("user").claims, (tx) => getPattern(tx, id));
  if (!pattern) throw notFound("Pattern");
  return c.json(pattern, 200);
});

const patch = route({
  method: "patch",
  path: "/{id}",
  summary: "Confirm or override a pattern",
  auth: "user",
  request: { params: ids, body: jsonBody(PatternChange) },
  responses: { 200: json(Pattern, "The pattern") },
  errors: { 400: "Invalid body", 404: "No such pattern" },
});
app.openapi(patch, async (c) => {
  const { id } = c.req.valid("param");
  const change = c.req.valid("json");
  const pattern = await asUser(c.get("user").claims, (tx) => updatePattern(tx, id, change));
  if (!pattern) throw notFound("Pattern");
  return c.json(pattern, 200);
});

const remove = route({
  method: "delete",
  path: "/{id}",
  summary: "Delete a pattern (the observer may find it again)",
  auth: "user",
  request: { params: ids },
  responses: { 204: { description: "Deleted" } },
  errors: { 400: "Invalid id", 404: "No such pattern" },
});
app.openapi(remove, async (c) => {
  const { id } = c.req.valid("param");
  if (!(await asUser(c.get("user").claims, (tx) => deletePattern(tx, id)))) throw notFound("Pattern");
  return c.body(null, 204);
});
