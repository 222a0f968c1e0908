// Chat: an ordinary reply, through the chat pipeline itself (stored user message, streamed and
// saved reply, retries and fallback, ledger metered as chat, title; the chat's default model),
// in a conversation of kind `inbox` so it stays out of the chat sidebar. A prompt may continue
// one (context.conversation_id).
import type { CurrentUser } from "../auth.ts";
import { rememberedChatSettings } from "../chat/models.ts";
import { prepareReply } from "../chat/prepare.ts";
import { startReply } from "../chat/reply.ts";
import { asUser } from "../db.ts";
import { ApiError } from "../http.ts";
import type { ChatStreamEvent } from "../stream/events.ts";

const SYSTEM_PROMPT =
  "You are the user's workspace inbox assistant (Slack, Outlook email, Telegram). Answer clearly and concisely.";

export interface InboxChat {
  conversationId: string;
  messageId: string;
  events: AsyncIterable<ChatStreamEvent>;
  done: Promise<void>;
}

export async function inboxChat(
  user: CurrentUser,
  requestId: string,
  /** authorization: the caller's header, for chat tools that store files as the user. */
  input: { prompt: string; conversationId?: string; authorization?: string },
): Promise<InboxChat> {
  const conversationId = input.conversationId ?? await createConversation(user);
  // The prompts route counted the request (class prompts); the send checks the budget again.
  const prepared = await prepareReply(
    { user, requestId, gated: true },
    conversationId,
    { content: input.prompt },
  );
  if ("existingReplyId" in prepared) {
    throw new ApiError(409, "conflict", "This message was already answered");
  }
  const { events, done } = startReply({ ...prepared.plan, authorization: input.authorization });
  return { conversationId, messageId: prepared.plan.assistantId, events: events.read(), done };
}

/** With the product's default chat model, as a new chat conversation gets. */
async function createConversation(user: CurrentUser): Promise<string> {
  return await asUser(user.claims, async (tx) => {
    const { defaultModel } = await rememberedChatSettings(tx);
    const [row] = await tx<{ id: string }[]>`
      insert into public.conversations (user_id, kind, model, system_prompt)
      values (${user.id}, 'inbox', ${defaultModel}, ${SYSTEM_PROMPT})
      returning id`;
    return row.id;
  });
}

/** A conversation given by the caller must be theirs and of kind inbox. */
export async function checkInboxConversation(user: CurrentUser, id: string): Promise<void> {
  const [row] = await asUser(
    user.claims,
    (tx) => tx`select kind from public.conversations where id = ${id} and deleted_at is null`,
  );
  if (!row) throw new ApiError(404, "not_found", "Conversation not found");
  if (row.kind !== "inbox") {
    throw new ApiError(
      422,
      "not_an_inbox_conversation",
      "context.conversation_id must be an inbox conversation",
    );
  }
}

/** The reply's text and final status, once it is done. */
export async function replyOutcome(user: CurrentUser, messageId: string) {
  const [row] = await asUser(
    user.claims,
    (tx) =>
      tx<{ content: string; status: string; parts: unknown[] }[]>`
      select content, status, parts from public.messages where id = ${messageId}`,
  );
  return row;
}
