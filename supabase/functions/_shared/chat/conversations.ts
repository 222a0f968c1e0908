// Conversations and their messages as the API reads and writes them: named queries (run as the
// user, under RLS) and the JSON shapes they answer with.
import type { z } from "@hono/zod-openapi";
import { asUser, type JwtClaims, type Tx } from "../db.ts";
import { ApiError } from "../http.ts";
import type { FinishReason } from "../llm/types.ts";
import { type UsageColumns, usageTotals } from "../usage.ts";
import { containsPattern, decodeCursor, encodeCursor } from "../validate.ts";
import { stopLiveReply } from "./broadcast.ts";
import type { Conversation, ListConversations, UpdateConversation } from "./schemas.ts";
import { ListCursor, MessageCursor } from "./schemas.ts";
import { modelChain } from "./models.ts";
import type { Part } from "./parts.ts";

export interface ConversationRow extends UsageColumns {
  id: string;
  title: string | null;
  model: string;
  system_prompt: string | null;
  pinned: boolean;
  pinned_at: Date | null;
  archived_at: Date | null;
  last_message_at: Date | null;
  created_at: Date;
  updated_at: Date;
  active_leaf_id: string | null;
}

export interface MessageRow extends UsageColumns {
  id: string;
  conversation_id: string;
  parent_id: string | null;
  role: "user" | "assistant" | "system";
  status: "pending" | "streaming" | "complete" | "error" | "aborted";
  parts: Part[];
  content: string;
  client_message_id: string | null;
  model: string | null;
  provider: string | null;
  finish_reason: FinishReason | null;
  latency_ms: number | null;
  ttft_ms: number | null;
  error_type: string | null;
  error_details: unknown;
  created_at: Date;
  completed_at: Date | null;
}

type Group = z.infer<typeof Conversation>["group"];

const CONVERSATION_COLUMNS =
  `c.id, c.title, c.model, c.system_prompt, c.pinned, c.pinned_at, c.archived_at,
  c.last_message_at, c.created_at, c.updated_at, c.active_leaf_id, c.input_tokens, c.output_tokens,
  c.cached_read_tokens, c.cache_write_tokens, c.reasoning_tokens, c.cost_micro_usd`;

const MESSAGE_COLUMNS =
  `id, conversation_id, parent_id, role, status, parts, content, client_message_id,
  model, provider, finish_reason, input_tokens, output_tokens, cached_read_tokens,
  cache_write_tokens, reasoning_tokens, cost_micro_usd, latency_ms, ttft_ms, error_type,
  error_details, created_at, completed_at`;

export function conversationJson(r: ConversationRow & { group?: Group }) {
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
    usage: usageTotals(r),
    ...(r.group ? { group: r.group } : {}),
  };
}

export function messageJson(r: MessageRow) {
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
    usage: usageTotals(r),
    latency_ms: r.latency_ms,
    ttft_ms: r.ttft_ms,
    error: r.error_type ? { type: r.error_type, details: r.error_details } : null,
    created_at: r.created_at,
    completed_at: r.completed_at,
  };
}

/** The user's conversation (not deleted); 404 otherwise. */
export async function findConversation(tx: Tx, id: string): Promise<ConversationRow> {
  const [row] = await tx.unsafe<ConversationRow[]>(
    `select ${CONVERSATION_COLUMNS} from public.conversations c where c.id = $1 and c.deleted_at is null`,
    [id],
  );
  if (!row) throw new ApiError(404, "not_found", "Conversation not found");
  return row;
}

/**
 * The sidebar: pinned first, then by last activity, each with its group (today, yesterday...)
 * in the user's time zone; `q` matches titles (trigram) and message text (full text).
 *
 * One statement. Unarchived pages walk conversations_sidebar (user, pinned, activity, id)
 * backwards and stop at the limit (20261201140100). `c.user_id = auth.uid()` says what RLS
 * says, so that the planner estimates this user's rows rather than an average user's; the
 * cursor is spelled out column by column because a row comparison over coalesce() is not
 * leakproof, and is estimated better this way.
 */
export async function listConversations(tx: Tx, q: z.output<typeof ListConversations>) {
  const cursor = q.cursor ? decodeCursor(ListCursor, q.cursor) : null;
  const archived = q.archived ? "c.archived_at is not null" : "c.archived_at is null";
  const rows = await tx.unsafe<(ConversationRow & { group: Group; cursor_at: string })[]>(
    `with zone as materialized (
       select coalesce((select p.timezone from public.profiles p where p.id = auth.uid()), 'UTC') as tz
     ), listed as (
       select ${CONVERSATION_COLUMNS}, coalesce(c.last_message_at, c.created_at) as activity
       from public.conversations c
       where c.user_id = auth.uid() and c.deleted_at is null and ${archived}
         and ($1::boolean is null or c.pinned = $1)
         and ($2::text is null or c.title ilike $2
              or exists (select 1 from public.messages m where m.conversation_id = c.id
                         and m.search @@ websearch_to_tsquery('english', $3)))
         and ($4::boolean is null or c.pinned < $4
              or (c.pinned = $4 and (coalesce(c.last_message_at, c.created_at) < $5::text::timestamptz
                  or (coalesce(c.last_message_at, c.created_at) = $5::text::timestamptz and c.id < $6::uuid))))
       order by c.pinned desc, activity desc, c.id desc
       limit $7
     )
     select l.*,
       -- The cursor keeps every microsecond (a JS Date would cut them, and skip rows; so $5 is
       -- sent as text: postgres.js would turn a timestamptz parameter into a Date).
       to_char(l.activity at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at,
       case
         when l.pinned then 'pinned'
         when (l.activity at time zone z.tz)::date = (now() at time zone z.tz)::date then 'today'
         when (l.activity at time zone z.tz)::date = (now() at time zone z.tz)::date - 1 then 'yesterday'
         when (l.activity at time zone z.tz)::date > (now() at time zone z.tz)::date - 7 then 'previous_7_days'
         when (l.activity at time zone z.tz)::date > (now() at time zone z.tz)::date - 30 then 'previous_30_days'
         else 'older' end as group
     from listed l cross join zone z
     order by l.pinned desc, l.activity desc, l.id desc`,
    [
      q.pinned ?? null,
      q.q ? containsPattern(q.q) : null,
      q.q ?? "",
      cursor?.p ?? null,
      cursor?.t ?? null,
      cursor?.id ?? null,
      q.limit + 1,
    ],
  );
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    conversations: page.map(conversationJson),
    next_cursor: rows.length > q.limit && last
      ? encodeCursor({ p: last.pinned, t: last.cursor_at, id: last.id })
      : null,
  };
}

export async function createConversation(
  tx: Tx,
  c: { title?: string; model: string; system_prompt?: string },
) {
  const [created] = await tx<{ id: string }[]>`
    insert into public.conversations (title, model, system_prompt)
    values (${c.title ?? null}, ${c.model}, ${c.system_prompt ?? null}) returning id`;
  return await findConversation(tx, created.id);
}

/** Applies the changes given: 404, then 422 for an unknown model or a leaf of another conversation. */
export async function updateConversation(
  tx: Tx,
  id: string,
  change: z.output<typeof UpdateConversation>,
) {
  const current = await findConversation(tx, id);
  if (change.model) await modelChain(tx, change.model);
  if (change.active_leaf_id) {
    const [leaf] = await tx`
      select 1 from public.messages where id = ${change.active_leaf_id} and conversation_id = ${id}`;
    if (!leaf) {
      throw new ApiError(
        422,
        "invalid_leaf",
        "active_leaf_id is not a message of this conversation",
      );
    }
  }
  const pinned = change.pinned ?? current.pinned;
  const archivedAt = change.archived === undefined
    ? current.archived_at
    : change.archived
    ? current.archived_at ?? new Date()
    : null;
  await tx`
    update public.conversations set
      title = ${change.title ?? current.title},
      title_generated = title_generated and ${!change.title},
      model = ${change.model ?? current.model},
      system_prompt = ${
    change.system_prompt === undefined ? current.system_prompt : change.system_prompt
  },
      pinned = ${pinned},
      pinned_at = ${pinned === current.pinned ? current.pinned_at : pinned ? new Date() : null},
      archived_at = ${archivedAt},
      active_leaf_id = ${change.active_leaf_id ?? current.active_leaf_id}
    where id = ${id}`;
  return await findConversation(tx, id);
}

export async function softDeleteConversation(tx: Tx, id: string) {
  await findConversation(tx, id);
  await tx`update public.conversations set deleted_at = now() where id = ${id}`;
}

export async function togglePin(tx: Tx, id: string) {
  await findConversation(tx, id);
  await tx`update public.conversations set pinned = not pinned,
           pinned_at = case when pinned then null else now() end where id = ${id}`;
  return await findConversation(tx, id);
}

/** Up to `limit` messages of the branch ending at `leaf`, older than `before`, oldest first. */
export async function messagePage(
  tx: Tx,
  conversationId: string,
  page: { leaf: string | null; before?: string; limit: number },
) {
  let start = page.leaf;
  if (page.before) {
    const { id } = decodeCursor(MessageCursor, page.before);
    const [row] = await tx<{ parent_id: string | null }[]>`
      select parent_id from public.messages where id = ${id} and conversation_id = ${conversationId}`;
    if (!row) {
      throw new ApiError(400, "invalid_cursor", "The cursor is not valid; start again without it");
    }
    start = row.parent_id;
  }
  if (!start) return { messages: [], next_cursor: null };
  const rows = await tx.unsafe<MessageRow[]>(
    `with recursive path as (
       select m.*, 0 as depth from public.messages m where m.id = $1 and m.conversation_id = $2
       union all
       select m.*, p.depth + 1 from public.messages m join path p on m.id = p.parent_id where p.depth < $3
     )
     select ${MESSAGE_COLUMNS} from path order by depth desc`,
    [start, conversationId, page.limit],
  );
  const hasMore = rows.length > page.limit;
  const messages = hasMore ? rows.slice(1) : rows;
  return {
    messages: messages.map(messageJson),
    next_cursor: hasMore ? encodeCursor({ id: messages[0].id }) : null,
  };
}

/** Marks a reply in progress to be stopped (the instance generating it notices); 404 if none. */
async function requestStop(tx: Tx, conversationId: string, messageId: string) {
  const [row] = await tx<{ status: MessageRow["status"] }[]>`
    select status from public.messages
    where id = ${messageId} and conversation_id = ${conversationId} and role = 'assistant'`;
  if (!row) throw new ApiError(404, "not_found", "Message not found");
  if (isRunning(row.status)) {
    await tx`update public.messages set stop_requested_at = coalesce(stop_requested_at, now())
             where id = ${messageId}`;
  }
}

async function readMessage(tx: Tx, messageId: string): Promise<MessageRow> {
  const [row] = await tx.unsafe<MessageRow[]>(
    `select ${MESSAGE_COLUMNS} from public.messages where id = $1`,
    [messageId],
  );
  return row;
}

export const isRunning = (status: MessageRow["status"]) =>
  status === "pending" || status === "streaming";

const STOP_WAIT_MS = 5_000;

/**
 * Asks the instance generating the reply to stop, then waits (briefly) for it to end: the
 * message, and whether it is still running.
 */
export async function stopReply(claims: JwtClaims, conversationId: string, messageId: string) {
  await asUser(claims, (tx) => requestStop(tx, conversationId, messageId));
  // Generated here: stopped now. Elsewhere: its next progress write reads the request.
  stopLiveReply(claims.sub, conversationId, messageId);
  const read = () => asUser(claims, (tx) => readMessage(tx, messageId));
  const deadline = Date.now() + STOP_WAIT_MS;
  let message = await read();
  while (isRunning(message.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    message = await read();
  }
  return { message: messageJson(message), running: isRunning(message.status) };
}
