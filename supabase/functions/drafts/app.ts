// Suggested replies from task detection: list, edit or discard, and send, only on this
// explicit call and at most once (_shared/inbox/drafts.ts).
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { draftJson, sendDraft, updateDraft } from "../_shared/inbox/drafts.ts";
import { listDrafts } from "../_shared/inbox/queries.ts";
import { DraftKind, DraftSchema, DraftStatus, PageQuery } from "../_shared/inbox/schemas.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";

export const app = createApp<AuthedEnv>("drafts");
app.use("*", requireUser);
app.use("*", limitWrites());

type Draft = z.infer<typeof DraftSchema>;

const list = route({
  method: "get",
  path: "/",
  summary: "The caller's drafts, newest first",
  auth: "user",
  request: {
    query: z.strictObject({
      status: DraftStatus.optional(),
      kind: DraftKind.optional(),
      ...PageQuery,
    }),
  },
  responses: {
    200: json(
      z.object({ drafts: z.array(DraftSchema), next_cursor: z.string().nullable() }),
      "A page of drafts",
    ),
  },
  errors: { 400: "Invalid query parameters or cursor" },
});

app.openapi(list, async (c) => {
  const page = await asUser(c.get("user").claims, (tx) => listDrafts(tx, c.req.valid("query")));
  return c.json(
    { drafts: page.items.map(draftJson) as Draft[], next_cursor: page.next_cursor },
    200,
  );
});

const DraftPatch = z.strictObject({
  content: z.strictObject({
    text: z.string().trim().min(1).max(40_000),
    subject: z.string().trim().min(1).max(500).optional(),
  }).optional(),
  status: z.enum(["draft", "discarded"]).optional(),
}).refine((b) => b.content !== undefined || b.status !== undefined, "Send content or status");

const edit = route({
  method: "patch",
  path: "/{id}",
  summary: "Edit a draft's text, or discard (or restore) it",
  auth: "user",
  request: { params: uuidParams("id"), body: jsonBody(DraftPatch) },
  responses: { 200: json(DraftSchema, "The draft") },
  errors: {
    404: "Not found",
    409: "Already sent or being sent",
    429: "Rate limited",
  },
});

app.openapi(edit, async (c) => {
  const { id } = c.req.valid("param");
  const draft = await updateDraft(c.get("user"), id, c.req.valid("json"));
  return c.json(draftJson(draft) as Draft, 200);
});

const send = route({
  method: "post",
  path: "/{id}/send",
  summary: "Send a draft through its source's connector, at most once",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: {
    200: json(
      z.object({ draft: DraftSchema, sent_now: z.boolean() }),
      "Sent (sent_now: false when it had been sent before: nothing went out again)",
    ),
  },
  errors: {
    400: "Invalid id",
    404: "Not found",
    409: "Discarded, being sent, its account revoked or disconnected, or no event to reply to",
    429: "Rate limited",
    502: "The platform refused the message (the draft is failed and may be sent again)",
  },
});

app.openapi(send, async (c) => {
  const { id } = c.req.valid("param");
  const outcome = await sendDraft(c.get("user"), id);
  return c.json({ draft: draftJson(outcome.draft) as Draft, sent_now: outcome.sent_now }, 200);
});
