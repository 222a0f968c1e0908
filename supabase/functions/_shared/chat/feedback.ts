// Feedback on assistant replies (table message_feedback): one row per user and message; sending
// again replaces the rating and comment. Run as the user, so RLS keeps it to their own replies.
import type { z } from "@hono/zod-openapi";
import type { Tx } from "../db.ts";
import { ApiError } from "../http.ts";
import type { FeedbackBody } from "./schemas.ts";

export interface FeedbackRow {
  message_id: string;
  rating: "up" | "down";
  comment: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Rates the reply `messageId` of the user's conversation: 404 if not theirs, 422 if not a reply. */
export async function rateReply(
  tx: Tx,
  conversationId: string,
  messageId: string,
  feedback: z.output<typeof FeedbackBody>,
): Promise<FeedbackRow> {
  const [message] = await tx<{ role: string }[]>`
    select m.role from public.messages m join public.conversations c on c.id = m.conversation_id
    where m.id = ${messageId} and m.conversation_id = ${conversationId} and c.deleted_at is null`;
  if (!message) throw new ApiError(404, "not_found", "Message not found");
  if (message.role !== "assistant") {
    throw new ApiError(422, "not_a_reply", "Only assistant replies take feedback");
  }
  const [row] = await tx<FeedbackRow[]>`
    insert into public.message_feedback (message_id, rating, comment)
    values (${messageId}, ${feedback.rating}, ${feedback.comment ?? null})
    on conflict (user_id, message_id) do update
      set rating = excluded.rating, comment = excluded.comment
    returning message_id, rating, comment, created_at, updated_at`;
  return row;
}
