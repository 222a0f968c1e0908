// The conversations API: CRUD and sidebar listing, message history by branch, and chat
// (send and stream, stop, resume, regenerate). See README "Conversations and chat".
import type { Context } from "hono";
import { z } from "zod";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser, type Tx } from "../_shared/db.ts";
import { createApp } from "../_shared/app.ts";
import { ApiError } from "../_shared/http.ts";
import type { Operation } from "../_shared/openapi_legacy.ts";
import { chatGate, limitWrites } from "../_shared/limits.ts";
import { runInBackground } from "../_shared/runtime.ts";
import {
  type Prepared,
  prepareRegenerate,
  prepareSend,
  type SendInput,
} from "../_shared/chat/prepare.ts";
import { replay, replyExists } from "../_shared/chat/replay.ts";
import { startReply } from "../_shared/chat/reply.ts";
import { chatSettings, modelChain } from "../_shared/chat/models.ts";
import {
  CreateConversation,
  ListConversations,
  ListMessages,
  MAX_MESSAGE_CHARS,
  Regenerate,
  SendBody,
  StreamMode,
  UpdateConversation,
} from "../_shared/chat/schemas.ts";
import type { ChatStreamEvent } from "../_shared/stream/events.ts";
import { encodeSimpleStream, SIMPLE_STREAM_HEADERS } from "../_shared/stream/simple.ts";
import { encodeUiMessageStream, UI_STREAM_HEADERS } from "../_shared/stream/ui_message_stream.ts";
import {
  containsPattern,
  decodeCursor,
  encodeCursor,
  jsonBody,
  parse,
  query,
  uuidParam,
} from "../_shared/validate.ts";

const app = createApp<AuthedEnv>("conversations");
app.use("*", requireUser);
// Sending and regenerating count as "chat" (in their handlers, after validation); other writes as "write".
const CHAT_ROUTES = /\/messages(\/[^/]+\/regenerate)?\/?$/;
app.use("*", limitWrites(CHAT_ROUTES));

type C = Context<AuthedEnv>;
const user = (c: C) => c.get("user");

// --- Shapes returned to clients ----------------------------------------------------------------
const CONVERSATION_COLUMNS =
  `c.id, c.title, c.model, c.system_prompt, c.pinned, c.pinned_at, c.archived_at,
  c.last_message_at, c.created_at, c.updated_at, c.active_leaf_id, c.input_tokens, c.output_tokens,
  c.cached_read_tokens, c.cache_write_tokens, c.reasoning_tokens, c.cost_micro_usd`;

// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

/** Token counts and cost (stored in micro-USD, shown in USD). */
const usageJson = (r: Row) => ({
  input_tokens: r.input_tokens,
  output_tokens: r.output_tokens,
  cached_read_tokens: r.cached_read_tokens,
  cache_write_tokens: r.cache_write_tokens,
  reasoning_tokens: r.reasoning_tokens,
  cost_usd: r.cost_micro_usd / 1e6,
});

function conversationJson(r: Row) {
  return {
    id: r.id,
    title: r.title,
    model: r.model,
    system_prompt: r.system_prompt,
    pinned: r.pinned,
    pinned_at: r.pinned_at,
    archived: r.archived_at !== null,
    archived_at: r.archived_at,
    last_message_at: r.last_message_at,
    created_at: r.created_at,
    updated_at: r.updated_at,
    active_leaf_id: r.active_leaf_id,
    usage: usageJson(r),
    ...(r.group ? { group: r.group } : {}),
  };
}

const MESSAGE_COLUMNS =
  `id, conversation_id, parent_id, role, status, parts, content, client_message_id,
  model, provider, provider_model, finish_reason, input_tokens, output_tokens, cached_read_tokens,
  cache_write_tokens, reasoning_tokens, cost_micro_usd, latency_ms, ttft_ms, error_type, error_details,
  created_at, completed_at`;

function messageJson(r: Row) {
  return {
    id: r.id,
    conversation_id: r.conversation_id,
    parent_id: r.parent_id,
    role: r.role,
    status: r.status,
    parts: r.parts,
    content: r.content,
    client_message_id: r.client_message_id,
    model: r.model,
    provider: r.provider,
    finish_reason: r.finish_reason,
    usage: usageJson(r),
    latency_ms: r.latency_ms,
    ttft_ms: r.ttft_ms,
    error: r.error_type ? { type: r.error_type, details: r.error_details } : null,
    created_at: r.created_at,
    completed_at: r.completed_at,
  };
}

async function findConversation(tx: Tx, id: string) {
  const [row] = await tx.unsafe(
    `select ${CONVERSATION_COLUMNS} from public.conversations c where c.id = $1 and c.deleted_at is null`,
    [id],
  );
  if (!row) throw new ApiError(404, "not_found", "Conversation not found");
  return row;
}

// --- Message pages along a branch ----------------------------------------------------------------
const MessageCursor = z.strictObject({ id: z.uuid() });

/** Up to `limit` messages of the branch ending at `leaf`, older than `before`, oldest first. */
async function messagePage(
  tx: Tx,
  conversationId: string,
  leaf: string | null,
  before: string | undefined,
  limit: number,
) {
  let start = leaf;
  if (before) {
    const { id } = decodeCursor(MessageCursor, before);
    const [row] =
      await tx`select parent_id from public.messages where id = ${id} and conversation_id = ${conversationId}`;
    if (!row) {
      throw new ApiError(400, "invalid_cursor", "The cursor is not valid; start again without it");
    }
    start = row.parent_id;
  }
  if (!start) return { messages: [], next_cursor: null };
  const rows = await tx.unsafe(
    `with recursive path as (
       select m.*, 0 as depth from public.messages m where m.id = $1 and m.conversation_id = $2
       union all
       select m.*, p.depth + 1 from public.messages m join path p on m.id = p.parent_id where p.depth < $3
     )
     select ${MESSAGE_COLUMNS} from path order by depth desc`,
    [start, conversationId, limit],
  );
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(1) : rows;
  return {
    messages: page.map(messageJson),
    next_cursor: hasMore ? encodeCursor({ id: page[0].id }) : null,
  };
}

// --- Conversations -------------------------------------------------------------------------------
const ListCursor = z.strictObject({
  p: z.boolean(),
  t: z.iso.datetime({ offset: true }),
  id: z.uuid(),
});

app.get("/", async (c) => {
  const q = query(c, ListConversations);
  const cursor = q.cursor ? decodeCursor(ListCursor, q.cursor) : null;
  const rows = await asUser(user(c).claims, async (tx) => {
    const [{ timezone }] =
      await tx`select coalesce((select timezone from public.profiles where id = auth.uid()), 'UTC') as timezone`;
    const pattern = q.q ? containsPattern(q.q) : null;
    return await tx.unsafe(
      `with listed as (
         select ${CONVERSATION_COLUMNS}, coalesce(c.last_message_at, c.created_at) as activity
         from public.conversations c
         where c.deleted_at is null
           and ($1::boolean is null or (c.archived_at is not null) = $1)
           and ($2::boolean is null or c.pinned = $2)
           and ($3::text is null or c.title ilike $3
                or exists (select 1 from public.messages m where m.conversation_id = c.id
                           and m.search @@ websearch_to_tsquery('english', $4)))
       )
       select l.*, case
         when l.pinned then 'pinned'
         when (l.activity at time zone $5)::date = (now() at time zone $5)::date then 'today'
         when (l.activity at time zone $5)::date = (now() at time zone $5)::date - 1 then 'yesterday'
         when (l.activity at time zone $5)::date > (now() at time zone $5)::date - 7 then 'previous_7_days'
         when (l.activity at time zone $5)::date > (now() at time zone $5)::date - 30 then 'previous_30_days'
         else 'older' end as group
       from listed l
       where $6::boolean is null or (l.pinned::int, l.activity, l.id) < ($6::boolean::int, $7::timestamptz, $8::uuid)
       order by l.pinned desc, l.activity desc, l.id desc
       limit $9`,
      [
        q.archived ?? false,
        q.pinned ?? null,
        pattern,
        q.q ?? "",
        timezone,
        cursor?.p ?? null,
        cursor?.t ?? null,
        cursor?.id ?? null,
        q.limit + 1,
      ],
    );
  });
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return c.json({
    conversations: page.map(conversationJson),
    next_cursor: rows.length > q.limit && last
      ? encodeCursor({ p: last.pinned, t: new Date(last.activity).toISOString(), id: last.id })
      : null,
  });
});

app.post("/", async (c) => {
  const body = await jsonBody(c, CreateConversation);
  const row = await asUser(user(c).claims, async (tx) => {
    const model = body.model ?? (await chatSettings(tx)).defaultModel;
    await modelChain(tx, model); // 422 for an unknown model
    const [created] = await tx`
      insert into public.conversations (title, model, system_prompt)
      values (${body.title ?? null}, ${model}, ${body.system_prompt ?? null}) returning id`;
    return await findConversation(tx, created.id);
  });
  return c.json(conversationJson(row), 201);
});

app.get("/:id", async (c) => {
  const id = uuidParam(c, "id");
  const result = await asUser(user(c).claims, async (tx) => {
    const conversation = await findConversation(tx, id);
    const page = await messagePage(tx, id, conversation.active_leaf_id, undefined, 50);
    return { ...conversationJson(conversation), ...page };
  });
  return c.json(result);
});

app.patch("/:id", async (c) => {
  const id = uuidParam(c, "id");
  const body = await jsonBody(c, UpdateConversation);
  const row = await asUser(user(c).claims, async (tx) => {
    const current = await findConversation(tx, id);
    if (body.model) await modelChain(tx, body.model);
    if (body.active_leaf_id) {
      const [leaf] =
        await tx`select 1 from public.messages where id = ${body.active_leaf_id} and conversation_id = ${id}`;
      if (!leaf) {
        throw new ApiError(
          422,
          "invalid_leaf",
          "active_leaf_id is not a message of this conversation",
        );
      }
    }
    const pinned = body.pinned ?? current.pinned;
    await tx`
      update public.conversations set
        title = ${body.title ?? current.title},
        title_generated = title_generated and ${!body.title},
        model = ${body.model ?? current.model},
        system_prompt = ${
      body.system_prompt === undefined ? current.system_prompt : body.system_prompt
    },
        pinned = ${pinned},
        pinned_at = ${pinned === current.pinned ? current.pinned_at : pinned ? new Date() : null},
        archived_at = ${
      body.archived === undefined
        ? current.archived_at
        : body.archived
        ? current.archived_at ?? new Date()
        : null
    },
        active_leaf_id = ${body.active_leaf_id ?? current.active_leaf_id}
      where id = ${id}`;
    return await findConversation(tx, id);
  });
  return c.json(conversationJson(row));
});

app.delete("/:id", async (c) => {
  const id = uuidParam(c, "id");
  await asUser(user(c).claims, async (tx) => {
    await findConversation(tx, id);
    await tx`update public.conversations set deleted_at = now() where id = ${id}`;
  });
  return c.body(null, 204);
});

app.post("/:id/pin", async (c) => {
  const id = uuidParam(c, "id");
  const row = await asUser(user(c).claims, async (tx) => {
    await findConversation(tx, id);
    await tx`update public.conversations set pinned = not pinned,
             pinned_at = case when pinned then null else now() end where id = ${id}`;
    return await findConversation(tx, id);
  });
  return c.json(conversationJson(row));
});

app.get("/:id/messages", async (c) => {
  const id = uuidParam(c, "id");
  const q = query(c, ListMessages);
  const page = await asUser(user(c).claims, async (tx) => {
    const conversation = await findConversation(tx, id);
    return await messagePage(tx, id, q.leaf ?? conversation.active_leaf_id, q.before, q.limit);
  });
  return c.json(page);
});

// --- Chat ----------------------------------------------------------------------------------------
function sse(c: C, events: AsyncIterable<ChatStreamEvent>) {
  const { stream } = query(c, StreamMode);
  return stream === "simple"
    ? new Response(encodeSimpleStream(events), { headers: SIMPLE_STREAM_HEADERS })
    : new Response(encodeUiMessageStream(events), { headers: UI_STREAM_HEADERS });
}

function respond(c: C, prepared: Prepared, conversationId: string) {
  if ("existingReplyId" in prepared) {
    return sse(c, replay(user(c), conversationId, prepared.existingReplyId));
  }
  const { events, done } = startReply(prepared.plan);
  runInBackground(done); // the reply goes on if the client leaves
  return sse(c, events.read());
}

/** Our body, or useChat's (whose newest user message is the only thing used). */
function sendInput(
  body: z.output<typeof SendBody>,
): SendInput | { regenerate: string; model?: string } {
  if (!("messages" in body)) {
    return {
      content: body.content,
      clientMessageId: body.client_message_id,
      model: body.model,
      parentId: body.parent_id,
      mentions: body.mentions,
    };
  }
  if (body.trigger === "regenerate-message" && body.messageId) {
    return { regenerate: body.messageId, model: body.model };
  }
  const last = body.messages.findLast((m) => m.role === "user");
  const content = last?.parts.filter((p) => p.type === "text").map((p) => p.text ?? "").join("")
    .trim();
  if (!last || !content) {
    throw new ApiError(400, "invalid_request", "The newest user message has no text");
  }
  if (content.length > MAX_MESSAGE_CHARS) {
    throw new ApiError(
      400,
      "invalid_request",
      `A message is at most ${MAX_MESSAGE_CHARS} characters`,
    );
  }
  return { content, clientMessageId: last.id, model: body.model };
}

app.post("/:id/messages", async (c) => {
  const id = uuidParam(c, "id");
  query(c, StreamMode);
  const input = sendInput(await jsonBody(c, SendBody));
  const downgrade = await chatGate(c); // 429 rate limit, 402 budget, or a cheaper model
  const prepared = "regenerate" in input
    ? await prepareRegenerate(
      user(c),
      id,
      parse(z.uuid(), input.regenerate, "messageId"),
      input.model,
      c.get("requestId"),
      downgrade,
    )
    : await prepareSend(user(c), id, input, c.get("requestId"), downgrade);
  return respond(c, prepared, id);
});

app.post("/:id/messages/:messageId/regenerate", async (c) => {
  const id = uuidParam(c, "id");
  const messageId = uuidParam(c, "messageId");
  query(c, StreamMode);
  const body = c.req.header("content-length") === "0" || !c.req.header("content-type")
    ? {}
    : await jsonBody(c, Regenerate);
  const downgrade = await chatGate(c);
  return respond(
    c,
    await prepareRegenerate(user(c), id, messageId, body.model, c.get("requestId"), downgrade),
    id,
  );
});

app.get("/:id/messages/:messageId/stream", async (c) => {
  const id = uuidParam(c, "id");
  const messageId = uuidParam(c, "messageId");
  query(c, StreamMode);
  if (!(await replyExists(user(c), id, messageId))) {
    throw new ApiError(404, "not_found", "Message not found");
  }
  return sse(c, replay(user(c), id, messageId));
});

/** Asks the instance generating the reply to stop, then waits (briefly) for it to end. */
app.post("/:id/messages/:messageId/stop", async (c) => {
  const id = uuidParam(c, "id");
  const messageId = uuidParam(c, "messageId");
  const me = user(c);
  const stop = () =>
    asUser(me.claims, async (tx) => {
      const [row] = await tx`select status from public.messages
                             where id = ${messageId} and conversation_id = ${id} and role = 'assistant'`;
      if (!row) throw new ApiError(404, "not_found", "Message not found");
      if (row.status === "pending" || row.status === "streaming") {
        await tx`update public.messages set stop_requested_at = coalesce(stop_requested_at, now()) where id = ${messageId}`;
      }
    });
  const read = () =>
    asUser(
      me.claims,
      (tx) => tx`select ${tx.unsafe(MESSAGE_COLUMNS)} from public.messages where id = ${messageId}`,
    )
      .then(([row]) => row);
  const running = (status: string) => status === "pending" || status === "streaming";
  await stop();
  const deadline = Date.now() + 5_000;
  let message = await read();
  while (running(message.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    message = await read();
  }
  return c.json(messageJson(message), running(message.status) ? 202 : 200);
});

/** This function's operations, for the OpenAPI document (npm run openapi). */
export const operations: Operation[] = [
  {
    method: "GET",
    path: "/",
    summary: "List conversations for the sidebar",
    auth: "user",
    query: ListConversations,
    responses: {
      200: "A page of conversations with their sidebar group",
      400: "Bad query or cursor",
    },
  },
  {
    method: "POST",
    path: "/",
    summary: "Create a conversation",
    auth: "user",
    body: CreateConversation,
    responses: { 201: "The conversation", 400: "Invalid body", 422: "Unknown model" },
  },
  {
    method: "GET",
    path: "/:id",
    summary: "A conversation with the newest messages of its active branch",
    auth: "user",
    responses: { 200: "The conversation and messages", 400: "Bad id", 404: "Not found" },
  },
  {
    method: "PATCH",
    path: "/:id",
    summary: "Rename, change model or prompt, pin, archive, switch branch",
    auth: "user",
    body: UpdateConversation,
    responses: {
      200: "The conversation",
      400: "Invalid body",
      404: "Not found",
      422: "Unknown model or leaf",
    },
  },
  {
    method: "DELETE",
    path: "/:id",
    summary: "Soft-delete a conversation",
    auth: "user",
    responses: { 204: "Deleted", 400: "Bad id", 404: "Not found" },
  },
  {
    method: "POST",
    path: "/:id/pin",
    summary: "Toggle the pin",
    auth: "user",
    responses: { 200: "The conversation", 400: "Bad id", 404: "Not found" },
  },
  {
    method: "GET",
    path: "/:id/messages",
    summary: "Older messages of a branch",
    auth: "user",
    query: ListMessages,
    responses: { 200: "A page of messages", 400: "Bad query or cursor", 404: "Not found" },
  },
  {
    method: "POST",
    path: "/:id/messages",
    summary: "Send a message and stream the reply",
    auth: "user",
    query: StreamMode,
    body: SendBody,
    streams: true,
    responses: {
      200: "The reply, as Server-Sent Events",
      400: "Invalid body",
      402: "Monthly budget used up",
      404: "Not found",
      409: "Repeated client_message_id without a reply",
      413: "Body too large",
      415: "Not JSON",
      422: "Unknown model, parent or document",
      429: "Rate limited",
    },
  },
  {
    method: "POST",
    path: "/:id/messages/:messageId/regenerate",
    summary: "A new reply as a sibling of the old one",
    auth: "user",
    query: StreamMode,
    body: Regenerate,
    streams: true,
    responses: {
      200: "The reply, as Server-Sent Events",
      400: "Invalid body",
      402: "Monthly budget used up",
      404: "Not found",
      429: "Rate limited",
    },
  },
  {
    method: "GET",
    path: "/:id/messages/:messageId/stream",
    summary: "Resume a reply: what was generated so far, then the rest",
    auth: "user",
    query: StreamMode,
    streams: true,
    responses: { 200: "The reply, as Server-Sent Events", 400: "Bad id", 404: "Not found" },
  },
  {
    method: "POST",
    path: "/:id/messages/:messageId/stop",
    summary: "Stop a reply being generated",
    auth: "user",
    responses: {
      200: "The stopped message",
      202: "Asked to stop; still finishing",
      400: "Bad id",
      404: "Not found",
    },
  },
];

export { app };
Deno.serve(app.fetch);
