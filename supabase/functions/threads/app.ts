// GET /threads: the caller's conversation threads across sources, most recent activity first.
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { json, route } from "../_shared/openapi.ts";
import { page, readCursor } from "../_shared/connectors/page.ts";
import { listThreads } from "../_shared/connectors/queries.ts";

export const app = createApp<AuthedEnv>("threads");
app.use("*", requireUser);

const Thread = z.object({
  id: z.uuid(),
  source: z.enum(["slack", "outlook", "telegram"]),
  external_id: z.string(),
  subject: z.string().nullable(),
  participants: z.array(z.unknown()),
  content_preview: z.string().nullable(),
  last_event_at: z.string().nullable(),
  event_count: z.number().int(),
  created_at: z.string(),
}).openapi("InboxThread");

const list = route({
  method: "get",
  path: "/",
  summary: "The caller's threads, most recent activity first",
  auth: "user",
  request: {
    query: z.strictObject({
      source: z.enum(["slack", "outlook", "telegram"]).optional(),
      cursor: z.string().max(500).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
    }),
  },
  responses: {
    200: json(
      z.object({ threads: z.array(Thread), next_cursor: z.string().nullable() }),
      "A page of threads",
    ),
  },
  errors: { 400: "Bad query or cursor" },
});
app.openapi(list, async (c) => {
  const q = c.req.valid("query");
  const rows = await listThreads(c.get("user").claims, { ...q, after: readCursor(q.cursor) });
  const { items, next_cursor } = page(
    rows,
    q.limit,
    (r) => ({ t: r.last_event_at ?? r.created_at, id: r.id }),
  );
  return c.json({
    threads: items.map((r) => ({
      id: r.id,
      source: r.source,
      external_id: r.external_id,
      subject: r.subject,
      participants: r.participants,
      content_preview: r.content_preview,
      last_event_at: r.last_event_at?.toISOString() ?? null,
      event_count: r.event_count,
      created_at: r.created_at.toISOString(),
    })),
    next_cursor,
  }, 200);
});
