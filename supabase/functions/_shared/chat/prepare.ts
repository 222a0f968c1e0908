// The part of sending a message that happens before any model is called, in one database
// statement (private.prepare_reply, migration 20261201120000): the chat gate (rate limit,
// budget), the conversation must be the user's, the user message is stored, the assistant
// message is created, and the history window and everything else the reply needs is read. A
// repeated client_message_id finds the reply that already exists instead. Together with the
// usage ledger's row at the provider call's start that is all the database work before the
// provider is called (issue 20: at most two statements).
import { z } from "@hono/zod-openapi";
import type { CurrentUser } from "../auth.ts";
import { jsonb, sql } from "../db.ts";
import { ApiError, log, sqlRaisedError } from "../http.ts";
import { type BudgetStatus, gateAnswer, type RateLimitRow } from "../limits.ts";
import type { HistoryMessage } from "./context.ts";
import { rememberedChatModels, rememberedChatSettings } from "./models.ts";
import type { Part, PartOf } from "./parts.ts";
import { FileUIPart, type SendFiles } from "./attachments.ts";
import { MAX_MESSAGE_CHARS, type SendBody } from "./schemas.ts";
import { parse } from "../validate.ts";
import type { ReplyPlan } from "./reply.ts";
import { MAX_MENTIONS, type MentionedDocument, mentionedIds } from "./mentions.ts";

/**
 * Who asks, for which request. `gated`: the caller's own chatGate counted the request already
 * (the planner and the inbox, before they create a conversation); the budget is checked anyway.
 */
export interface Requester {
  user: CurrentUser;
  requestId: string;
  gated?: boolean;
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

export interface RegenerateInput {
  /** The message whose user message is answered again (it, or the reply to it). */
  regenerate: string;
  model?: string;
}

export type Prepared = { plan: ReplyPlan } | { existingReplyId: string };

/** Our send body, or useChat's (whose newest user message is the only thing used). */
export function sendInput(
  body: z.output<typeof SendBody>,
): SendInput | RegenerateInput {
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

/** What private.prepare_reply answers (see the migration). */
interface PrepareAnswer {
  rate_limit: RateLimitRow | null;
  budget?: BudgetStatus;
  refused?: { sqlstate: string; message: string; hint: string; detail: string | null };
  existing_reply_id?: string;
  user_message_id: string;
  assistant_id: string;
  model: string;
  downgraded: boolean;
  system_prompt: string | null;
  title_from: string | null;
  summary: { text: string; through_id: string } | null;
  history: HistoryMessage[];
  mentions: MentionedDocument[];
  timezone: string;
}

/**
 * How far back the history is read: the window the model may get (chat.history_max_messages,
 * the largest context window's budget in characters) and as much again, so that a summary
 * falling behind can catch up with the turns that leave the window.
 */
const HISTORY_READ_FACTOR = 2;
const CHARS_PER_TOKEN = 4; // as estimateTokens (ledger.ts) counts

/** Refusals about the model: the registry this instance remembers may be behind (a new model). */
const MODEL_REFUSALS = new Set(["unknown_model", "provider_not_configured"]);

/** A new message (and its reply), or a new reply to an earlier one: one database statement. */
export async function prepareReply(
  requester: Requester,
  conversationId: string,
  input: SendInput | RegenerateInput,
): Promise<Prepared> {
  const { user, requestId } = requester;
  const settings = await rememberedChatSettings(sql);
  let models = await rememberedChatModels(sql);
  // Before anything is stored: a reply whose title and summaries cannot be written fails here.
  const utilityChain = models.chain(settings.utilityModel, ["utility", "chat"]);
  const send = "regenerate" in input ? null : input;
  const mentions = send ? mentionedIds(send.content, send.mentions) : [];
  if (mentions.length > MAX_MENTIONS) {
    throw new ApiError(400, "too_many_mentions", `At most ${MAX_MENTIONS} documents per message`);
  }
  // The new message's parts: its text, then its attachments (the SQL adds the mentions').
  const parts: Part[] | null = send &&
    [{ type: "text", text: send.content }, ...(send.attachments ?? [])];
  const statement = (rateClass: "chat" | null) =>
    sql<{ answer: PrepareAnswer }[]>`
      select private.prepare_reply(
        ${jsonb(user.claims)}, ${rateClass}, ${conversationId}, ${parts && jsonb(parts)},
        ${send?.content ?? null}, ${send?.clientMessageId ?? null}, ${send?.parentId ?? null},
        ${send?.parentId === null}, ${mentions}::uuid[],
        ${send ? null : (input as RegenerateInput).regenerate}, ${input.model ?? null},
        ${models.chat}::text[], ${models.downgrade}::text[],
        ${HISTORY_READ_FACTOR * settings.historyMaxMessages},
        ${historyChars(models.largestContextWindow, settings.contextBudgetRatio)}) as answer`
      .then(([row]) => row.answer);
  const rateClass = requester.gated ? null : "chat";
  let a = await statement(rateClass);
  if (a.refused && MODEL_REFUSALS.has(a.refused.hint)) {
    // Nothing was written but the rate-limit count: ask once more with the registry read now,
    // not counting the request again.
    models = await rememberedChatModels(sql, { fresh: true });
    a = { ...(await statement(null)), rate_limit: a.rate_limit };
  }
  const override = gateAnswer(a.rate_limit, a.budget, rateClass);
  if (a.refused) {
    const { sqlstate, ...rest } = a.refused;
    throw sqlRaisedError({ code: sqlstate, ...rest })!;
  }
  if (a.existing_reply_id) return { existingReplyId: a.existing_reply_id };
  if (override && !a.downgraded && !models.downgrade.includes(override.model)) {
    log("warn", "budget downgrade model unusable", { model: override.model });
  }
  return {
    plan: {
      requestId,
      userId: user.id,
      claims: user.claims,
      mentions: a.mentions,
      timezone: a.timezone,
      conversationId,
      assistantId: a.assistant_id,
      chain: models.chain(a.model, a.downgraded ? ["chat", "utility"] : ["chat"]),
      utilityChain,
      settings,
      system: a.system_prompt ?? settings.systemPrompt,
      history: a.history,
      summary: a.summary && { text: a.summary.text, throughId: a.summary.through_id },
      // A message of files only is titled from their names.
      titleFrom: a.title_from === null ? null : a.title_from ||
        (a.history[0].attachments ?? []).map((f) => f.filename).join(", "),
      notice: a.downgraded ? override?.notice : undefined,
      startedAt: performance.now(),
    },
  };
}

const historyChars = (largestContextWindow: number, budgetRatio: number) =>
  HISTORY_READ_FACTOR * CHARS_PER_TOKEN * Math.ceil(largestContextWindow * budgetRatio);
