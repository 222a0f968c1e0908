// Replaying a reply from the database: the whole of a finished one, or, for one still being
// generated (by any instance), what is saved so far and then the rest as it is saved. The
// stored parts go through the same ReplyParts as the live reply (parts.ts), so the events are
// the ones a live reader got.
import type { CurrentUser } from "../auth.ts";
import { asUser } from "../db.ts";
import type { ChatStreamEvent } from "../stream/events.ts";
import { findConversation, isRunning, type MessageRow } from "./conversations.ts";
import { PartsReplay } from "./parts.ts";

const POLL_MS = 100;
/** A reply still "streaming" this long after we started following it is left to recovery. */
const FOLLOW_LIMIT_MS = Number(Deno.env.get("AIDE_FOLLOW_LIMIT_MS") ?? 400_000);

type ReplyRow = Pick<MessageRow, "status" | "parts" | "finish_reason" | "error_type"> & {
  error_details: { message?: string } | null;
};

const load = (user: CurrentUser, conversationId: string, messageId: string) =>
  asUser(
    user.claims,
    (tx) =>
      tx<ReplyRow[]>`select status, parts, finish_reason, error_type, error_details
              from public.messages
              where id = ${messageId} and conversation_id = ${conversationId} and role = 'assistant'`,
  ).then((rows) => rows[0] ?? null);

export async function replyExists(user: CurrentUser, conversationId: string, messageId: string) {
  return (await load(user, conversationId, messageId)) !== null;
}

/**
 * The conversation's reply being generated, if any: what `useChat({resume: true})` reconnects
 * to, knowing only the chat (conversation) id. 404 if the conversation is not the user's.
 */
export function replyInProgress(user: CurrentUser, conversationId: string) {
  return asUser(user.claims, async (tx) => {
    await findConversation(tx, conversationId);
    const [row] = await tx<{ id: string }[]>`
      select id from public.messages
      where conversation_id = ${conversationId} and role = 'assistant'
        and status in ('pending', 'streaming')
      order by created_at desc limit 1`;
    return row?.id ?? null;
  });
}

/** The event that ends a reply in its final state. */
function ending(messageId: string, row: ReplyRow): ChatStreamEvent {
  if (row.status === "aborted") return { type: "abort", reason: "stopped" };
  if (row.status === "error") {
    return {
      type: "error",
      code: row.error_type ?? "error",
      message: row.error_details?.message ?? "The reply failed",
    };
  }
  return { type: "finish", messageId, finishReason: row.finish_reason ?? "stop" };
}

export async function* replay(
  user: CurrentUser,
  conversationId: string,
  messageId: string,
): AsyncGenerator<ChatStreamEvent> {
  let row = await load(user, conversationId, messageId);
  if (!row) return;
  const events: ChatStreamEvent[] = [{ type: "start", messageId, conversationId }];
  const parts = new PartsReplay((e) => events.push(e));
  const deadline = Date.now() + FOLLOW_LIMIT_MS;
  while (row) {
    parts.feed(row.parts);
    if (!isRunning(row.status)) {
      parts.end(row.status as "complete" | "error" | "aborted");
      events.push(ending(messageId, row));
      yield* events.splice(0);
      return;
    }
    yield* events.splice(0);
    if (Date.now() > deadline) {
      yield {
        type: "error",
        code: "timeout",
        message: "The reply is taking too long; fetch the message later",
      };
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    row = await load(user, conversationId, messageId);
  }
}
