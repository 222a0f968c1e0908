// POST /prompts: a free-text prompt ("summarize last 2 hours", "what needs action?") routed to
// summarize, task detection, search or chat (_shared/inbox/prompts.ts). JSON by default,
// `Accept: text/event-stream` for the same work as a UI message stream. GET /prompts/{id} reads
// a prompt's record. POST /prompts/digests is the pg_cron job's (Vault secret): scheduled
// summaries through the same path.
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { ApiError } from "../_shared/http.ts";
import { runDigests } from "../_shared/inbox/digests.ts";
import { checkInboxConversation } from "../_shared/inbox/chat.ts";
import { PromptRequest, runPrompt } from "../_shared/inbox/prompts.ts";
import { ChunkStream, UI_STREAM_HEADERS } from "../_shared/inbox/stream.ts";
import { Intent, SummaryContent } from "../_shared/inbox/types.ts";
import { chatGate } from "../_shared/limits.ts";
import { json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";
import { runInBackground } from "../_shared/runtime.ts";
import { requireWebhookSecret } from "../_shared/secrets.ts";

const SourceRef = z.object({ type: z.string(), id: z.uuid(), source: z.string().optional() });

const Task = z.object({
  id: z.uuid(),
  status: z.string(),
  priority: z.enum(["low", "medium", "high"]),
  title: z.string(),
  details: z.string().nullable(),
  reason: z.string().nullable(),
  due_at: z.string().nullable(),
  source_event_id: z.uuid().nullable(),
  source_refs: z.array(SourceRef),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("InboxTask");

const Citation = z.object({
  type: z.literal("citation"),
  document_id: z.uuid(),
  chunk_index: z.number().int(),
  title: z.string(),
  snippet: z.string(),
  object_type: z.string(),
  object_id: z.uuid(),
  source: z.string().nullable(),
  occurred_at: z.string().nullable(),
}).openapi("InboxCitation");

const SummaryAnswer = z.object({
  summary_id: z.uuid(),
  time_range: z.object({ start: z.string(), end: z.string() }),
  content: SummaryContent,
  created_at: z.string(),
  reused: z.boolean().describe("true: the stored summary of the same events, no model call"),
}).openapi("PromptSummary");

const TasksAnswer = z.object({
  tasks: z.array(Task),
  total: z.number().int(),
  by_priority: z.object({
    high: z.number().int(),
    medium: z.number().int(),
    low: z.number().int(),
  }),
  proposal_ids: z.array(z.uuid()),
  draft_ids: z.array(z.uuid()),
}).openapi("PromptTasks");

const SearchAnswer = z.object({
  answer: z.string(),
  citations: z.array(Citation),
  results: z.array(Citation.extend({ score: z.number() })),
}).openapi("PromptSearch");

const ChatAnswer = z.object({
  conversation_id: z.uuid(),
  message_id: z.uuid(),
  status: z.string(),
  content: z.string(),
}).openapi("PromptChat");

const PromptAnswer = z.object({
  prompt_id: z.uuid(),
  intent: Intent,
  response: z.union([SummaryAnswer, TasksAnswer, SearchAnswer, ChatAnswer]),
}).openapi("PromptAnswer");

const PromptRecord = z.object({
  id: z.uuid(),
  prompt: z.string(),
  context: z.record(z.string(), z.unknown()),
  intent: Intent.nullable(),
  window_start: z.string().nullable(),
  window_end: z.string().nullable(),
  window_from: z.string().nullable(),
  sources: z.array(z.string()).nullable(),
  priority: z.string().nullable(),
  topic: z.string().nullable(),
  status: z.enum(["running", "complete", "error"]),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  summary_id: z.uuid().nullable(),
  task_ids: z.array(z.uuid()),
  proposal_ids: z.array(z.uuid()),
  draft_ids: z.array(z.uuid()),
  conversation_id: z.uuid().nullable(),
  response: z.record(z.string(), z.unknown()).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("PromptRecord");

const DigestRun = z.strictObject({ digest_ids: z.array(z.uuid()).min(1).max(100) });
const DigestResults = z.object({
  results: z.array(z.object({
    digest_id: z.uuid(),
    status: z.string(),
    summary_id: z.uuid().optional(),
    error: z.string().optional(),
  })),
}).openapi("DigestResults");

export const app = createApp<AuthedEnv>("prompts");

const runDigestsRoute = route({
  middleware: [requireWebhookSecret],
  method: "post",
  path: "/digests",
  summary: "Run due digests (called by the pg_cron job aide-inbox-digests)",
  auth: "secret",
  request: { body: jsonBody(DigestRun) },
  responses: { 200: json(DigestResults, "What each digest did") },
  errors: { 400: "Invalid body", 401: "Bad secret" },
});

app.openapi(runDigestsRoute, async (c) => {
  const { digest_ids } = c.req.valid("json");
  return c.json(await runDigests(digest_ids, c.get("requestId")), 200);
});

app.use("*", requireUser);

const runPromptRoute = route({
  method: "post",
  path: "/",
  summary: "Run a free-text prompt: summarize, task detection, search or chat",
  auth: "user",
  request: { body: jsonBody(PromptRequest) },
  responses: {
    200: {
      description:
        "{prompt_id, intent, response} (seed 004 5.3); with Accept: text/event-stream the same work as a UI message stream (data-prompt, data-progress, data-<intent>)",
      content: {
        "application/json": { schema: PromptAnswer },
        "text/event-stream": { schema: z.string() },
      },
    },
  },
  errors: {
    402: "Monthly budget used up",
    404: "context.conversation_id not found",
    422: "Not an inbox conversation, or an unknown model in the settings",
    429: "Rate limited (class prompts)",
    502: "The model's output stayed invalid",
    503: "No model provider available",
  },
});

app.openapi(runPromptRoute, async (c) => {
  const body = c.req.valid("json");
  // Rate limit (class "prompts") and budget, before anything is stored or a model is called.
  const downgrade = await chatGate(c, "prompts");
  if (body.context.conversation_id) {
    await checkInboxConversation(c.get("user"), body.context.conversation_id);
  }
  const call = {
    user: c.get("user"),
    requestId: c.get("requestId"),
    downgrade,
    authorization: c.req.header("authorization"),
  };
  if (!/\btext\/event-stream\b/.test(c.req.header("accept") ?? "")) {
    return c.json((await runPrompt(call, body)) as z.infer<typeof PromptAnswer>, 200);
  }
  const stream = new ChunkStream();
  // The work goes on if the client leaves; its outcome is on the prompt record.
  runInBackground(runPrompt({ ...call, stream }, body).catch(() => {}));
  return new Response(stream.body(), { headers: UI_STREAM_HEADERS });
});

const getPromptRoute = route({
  method: "get",
  path: "/{id}",
  summary: "A prompt's record: intent, window, status and what it produced",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 200: json(PromptRecord, "The prompt") },
  errors: { 400: "Invalid id", 404: "Not found" },
});

app.openapi(getPromptRoute, async (c) => {
  const { id } = c.req.valid("param");
  const [row] = await asUser(c.get("user").claims, (tx) =>
    tx<z.infer<typeof PromptRecord>[]>`
      select id, prompt, context, intent, to_json(window_start) #>> '{}' as window_start,
             to_json(window_end) #>> '{}' as window_end, window_from, sources, priority, topic,
             status, error, summary_id, task_ids, proposal_ids, draft_ids, conversation_id,
             response, to_json(created_at) #>> '{}' as created_at,
             to_json(updated_at) #>> '{}' as updated_at
      from public.prompts where id = ${id}`);
  if (!row) throw new ApiError(404, "not_found", "Prompt not found");
  return c.json(row, 200);
});
