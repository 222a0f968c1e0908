// The part of sending a message that happens before any model is called, in one transaction
// as the user: the conversation must be theirs, the user message is stored, the assistant
// message is created, and everything the reply needs is read. A repeated client_message_id
// finds the reply that already exists instead.
import { z } from "@hono/zod-openapi";
import type { CurrentUser } from "../auth.ts";
import { asUser, jsonb, type Tx } from "../db.ts";
import { ApiError, log } from "../http.ts";
import type { ModelOverride } from "../limits.ts";
import type { HistoryMessage, StoredSummary } from "./context.ts";
import { rememberedChatSettings, rememberedModelChain } from "./models.ts";
import type { Part, PartOf } from "./parts.ts";
import { FileUIPart, type SendFiles } from "./attachments.ts";
import { MAX_MESSAGE_CHARS, type SendBody } from "./schemas.ts";
import { parse } from "../validate.ts";
import type { ReplyPlan } from "./reply.ts";
import { loadMentions, type MentionedDocument, mentionedIds } from "./mentions.ts";

/** Who asks, for which request, and the cheaper model to answer with past the soft limit. */
export interface Requester {
  user: CurrentUser;
  requestId: string;
  downgrade?: ModelOverride;
}

export interface SendInput {
  content: string;
  clientMessageId?: string;
  model?: string;
  /** undefined: answer after the active leaf; null: a new root (editing the first message). */
  parentId?: string | null;
  /** Document ids; `@[title](doc:<id>)` in the content counts too. */
  mentions?: string[];
  /** Files as they arrived (inline data URLs, uploaded ids): attachments.ts stores them... */
  files?: SendFiles;
  /** ...as these parts, which the user message keeps. */
  attachments?: PartOf<"attachment">[];
}

export type Prepared = { plan: ReplyPlan } | { existingReplyId: string };

/** Our send body, or useChat's (whose newest user message is the only thing used). */
export function sendInput(
  body: z.output<typeof SendBody>,
): SendInput | { regenerate: string; model?: string } {
  if (!("messages" in body)) {
    return {
      content: body.content,
      clientMessageId: body.client_message_id,
      model: body.model,
      parentId: body.parent_id,
      mentions: body.mentions,
      files: body.attachments?.length ? { inline: [], ids: body.attachments } : undefined,
    };
  }
  if (body.trigger === "regenerate-message" && body.messageId) {
    return { regenerate: parse(z.uuid(), body.messageId, "messageId"), model: body.model };
  }
  const last = body.messages.findLast((m) => m.role === "user");
  const content = last?.parts.filter((p) => p.type === "text").map((p) => p.text ?? "").join("")
    .trim();
  // useChat's file parts (sendMessage({files})): data URLs; uploaded files come as ids.
  const inline = (last?.parts ?? []).filter((p) => p.type === "file")
    .map((p, i) => parse(FileUIPart, p, `messages[-1].parts[file ${i}]`));
  const ids = body.attachments ?? [];
  const files = inline.length || ids.length ? { inline, ids } : undefined;
  if (!last || (!content && !files)) {
    throw new ApiError(400, "invalid_request", "The newest user message has no text");
  }
  if (content && content.length > MAX_MESSAGE_CHARS) {
    throw new ApiError(
      400,
      "invalid_request",
      `A message is at most ${MAX_MESSAGE_CHARS} characters`,
    );
  }
  return { content: content ?? "", clientMessageId: last.id, model: body.model, files };
}

interface ConversationRow {
  id: string;
  model: string;
  system_prompt: string | null;
  title: string | null;
  active_leaf_id: string | null;
  summary: string | null;
  summary_through_id: string | null;
}

async function lockConversation(tx: Tx, id: string) {
  const [conversation] = await tx<ConversationRow[]>`
    select id, model, system_prompt, title, active_leaf_id, summary, summary_through_id
    from public.conversations where id = ${id} and deleted_at is null for update`;
  if (!conversation) throw new ApiError(404, "not_found", "Conversation not found");
  return conversation;
}

/** The branch ending at `leafId`, oldest first. */
function branch(tx: Tx, leafId: string) {
  return tx<(HistoryMessage & { status: string })[]>`
    with recursive path as (
      select id, parent_id, role, content, parts, status, 0 as depth
      from public.messages where id = ${leafId}
      union all
      select m.id, m.parent_id, m.role, m.content, m.parts, m.status, p.depth + 1
      from public.messages m join path p on m.id = p.parent_id
    )
    select id, role, content, status,
           jsonb_path_query_array(parts, '$[*] ? (@.type == "attachment")') as attachments
    from path order by depth desc`;
}

/** The reply to `userMessageId`: its model chain, assistant message, history and settings. */
async function planReply(tx: Tx, { user, requestId, downgrade }: Requester, answer: {
  conversation: ConversationRow;
  userMessageId: string;
  model: string;
  mentions: MentionedDocument[];
}): Promise<ReplyPlan> {
  const { conversation, userMessageId, mentions } = answer;
  let modelAlias = answer.model;
  const settings = await rememberedChatSettings(tx);
  let chain = await rememberedModelChain(tx, modelAlias);
  // Past the budget's soft limit a cheaper model answers (unless it is already the one asked for).
  let notice: ModelOverride["notice"] | undefined;
  if (downgrade && downgrade.model !== modelAlias) {
    try {
      chain = await rememberedModelChain(tx, downgrade.model, ["chat", "utility"]);
      modelAlias = downgrade.model;
      notice = downgrade.notice;
    } catch (e) {
      log("warn", "budget downgrade model unusable", { model: downgrade.model, error: String(e) });
    }
  }
  const utilityChain = await rememberedModelChain(tx, settings.utilityModel, ["utility", "chat"]);
  const [{ id: assistantId }] = await tx<{ id: string }[]>`
    select private.open_assistant_message(${conversation.id}, ${userMessageId}, ${modelAlias}) as id`;
  const history = await branch(tx, userMessageId);
  const [profile] = await tx<
    { timezone: string }[]
  >`select timezone from public.profiles where id = ${user.id}`;
  const firstExchange = conversation.title === null && history.length === 1;
  return {
    requestId,
    userId: user.id,
    claims: user.claims,
    mentions,
    timezone: profile?.timezone ?? "UTC",
    conversationId: conversation.id,
    assistantId,
    chain,
    utilityChain,
    settings,
    system: conversation.system_prompt ?? settings.systemPrompt,
    history: history.map(({ id, role, content, attachments }) => ({
      id,
      role,
      content,
      ...(attachments?.length ? { attachments } : {}),
    })),
    summary: conversation.summary && conversation.summary_through_id
      ? {
        text: conversation.summary,
        throughId: conversation.summary_through_id,
      } satisfies StoredSummary
      : null,
    // A message of files only is titled from their names.
    titleFrom: firstExchange
      ? history[0].content || (history[0].attachments ?? []).map((a) => a.filename).join(", ")
      : null,
    notice,
    startedAt: performance.now(),
  };
}

export function prepareSend(
  requester: Requester,
  conversationId: string,
  input: SendInput,
): Promise<Prepared> {
  return asUser(requester.user.claims, async (tx) => {
    const conversation = await lockConversation(tx, conversationId);
    if (input.clientMessageId) {
      const [existing] = await tx<{ reply_id: string | null }[]>`
        select (select r.id from public.messages r where r.parent_id = u.id and r.role = 'assistant'
                order by r.created_at limit 1) as reply_id
        from public.messages u
        where u.conversation_id = ${conversationId} and u.client_message_id = ${input.clientMessageId}`;
      if (existing?.reply_id) return { existingReplyId: existing.reply_id };
      if (existing) {
        throw new ApiError(409, "conflict", "This message was already sent and has no reply");
      }
    }
    const parentId = input.parentId === undefined ? conversation.active_leaf_id : input.parentId;
    if (parentId) {
      const [parent] = await tx`select 1 from public.messages
                                where id = ${parentId} and conversation_id = ${conversationId}`;
      if (!parent) {
        throw new ApiError(
          422,
          "invalid_parent",
          "parent_id is not a message of this conversation",
        );
      }
    }
    const model = input.model ?? conversation.model;
    const mentions = await loadMentions(tx, mentionedIds(input.content, input.mentions));
    // Mentioned documents are kept on the message as file parts (a regenerated reply reads them).
    const parts: Part[] = [
      { type: "text", text: input.content },
      ...mentions.map((d): Part => ({ type: "file", document_id: d.id, title: d.title })),
      ...(input.attachments ?? []),
    ];
    const [message] = await tx<{ id: string }[]>`
      insert into public.messages (conversation_id, parent_id, role, parts, content, client_message_id)
      values (${conversationId}, ${parentId}, 'user', ${jsonb(parts)}, ${input.content},
              ${input.clientMessageId ?? null})
      returning id`;
    if (model !== conversation.model) {
      await tx`update public.conversations set model = ${model} where id = ${conversationId}`;
    }
    return {
      plan: await planReply(tx, requester, {
        conversation,
        userMessageId: message.id,
        model,
        mentions,
      }),
    };
  });
}

/** A new answer to the user message that `messageId` answers (or is), as a sibling branch. */
export function prepareRegenerate(
  requester: Requester,
  conversationId: string,
  regenerate: { messageId: string; model?: string },
): Promise<Prepared> {
  const { messageId } = regenerate;
  return asUser(requester.user.claims, async (tx) => {
    const conversation = await lockConversation(tx, conversationId);
    const [message] = await tx<{ id: string; role: string; parent_id: string | null }[]>`
      select id, role, parent_id from public.messages
      where id = ${messageId} and conversation_id = ${conversationId}`;
    if (!message) throw new ApiError(404, "not_found", "Message not found");
    const userMessageId = message.role === "user" ? message.id : message.parent_id;
    if (!userMessageId) {
      throw new ApiError(422, "invalid_message", "This message answers no user message");
    }
    // The documents the original message mentioned, those still readable.
    const [{ ids }] = await tx<{ ids: string[] }[]>`
      select coalesce(array_agg(p ->> 'document_id'), '{}') as ids
      from public.messages m, jsonb_array_elements(m.parts) p
      where m.id = ${userMessageId} and p ->> 'type' = 'file' and p ? 'document_id'`;
    const mentions = await loadMentions(tx, ids, { skipMissing: true });
    return {
      plan: await planReply(tx, requester, {
        conversation,
        userMessageId,
        model: regenerate.model ?? conversation.model,
        mentions,
      }),
    };
  });
}
