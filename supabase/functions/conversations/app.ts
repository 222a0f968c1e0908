// The conversations API: CRUD and sidebar listing, message history by branch, chat (send and
// stream, stop, resume, regenerate), feedback, export, share links and the files tools made
// (artifacts.ts). See README "Conversations and chat".
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { ApiError } from "../_shared/http.ts";
import { chatGate, limitWrites } from "../_shared/limits.ts";
import { eventStream, json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";
import { runInBackground } from "../_shared/runtime.ts";
import {
  conversationJson,
  createConversation,
  findConversation,
  listConversations,
  messagePage,
  softDeleteConversation,
  stopReply,
  togglePin,
  updateConversation,
} from "../_shared/chat/conversations.ts";
import {
  attachmentReader,
  checkRegenerateFiles,
  removeAttachment,
  removeConversationFiles,
  type SentFiles,
  storeSendFiles,
  uploadAttachment,
  withSignedLinks,
} from "../_shared/chat/attachments.ts";
import { exportConversation, exportFileName, exportMarkdown } from "../_shared/chat/export.ts";
import { rateReply } from "../_shared/chat/feedback.ts";
import { chatSettings, modelChain } from "../_shared/chat/models.ts";
import { type Prepared, prepareReply, type Requester, sendInput } from "../_shared/chat/prepare.ts";
import { replay, replyExists, replyInProgress } from "../_shared/chat/replay.ts";
import { startReply } from "../_shared/chat/reply.ts";
import { createShare, deleteShare, listShares, shareUrl } from "../_shared/chat/shares.ts";
import {
  Attachment,
  Conversation,
  ConversationExport,
  ConversationPage,
  ConversationWithMessages,
  CreateConversation,
  CreateShare,
  ExportQuery,
  Feedback,
  FeedbackBody,
  ListConversations,
  ListMessages,
  Message,
  MessagePage,
  NewShare,
  Regenerate,
  SendBody,
  ShareList,
  StreamMode,
  UpdateConversation,
} from "../_shared/chat/schemas.ts";
import type { ChatStreamEvent } from "../_shared/stream/events.ts";
import { encodeSimpleStream, SIMPLE_STREAM_HEADERS } from "../_shared/stream/simple.ts";
import { encodeUiMessageStream, UI_STREAM_HEADERS } from "../_shared/stream/ui_message_stream.ts";
import { removeConversationArtifacts } from "../_shared/chat/artifacts.ts";
import { artifactRoutes } from "./artifacts.ts";

export const app = createApp<AuthedEnv>("conversations");
app.use("*", requireUser);
// Sending and regenerating count as "chat" (in their one statement, after validation); other
// writes as "write".
const CHAT_ROUTES = /\/messages(\/[^/]+\/regenerate)?\/?$/;
app.use("*", limitWrites(CHAT_ROUTES));

type C = Context<AuthedEnv>;
const claims = (c: C) => c.get("user").claims;
const authorization = (c: C) => c.req.header("authorization")!;
// The send's statement is the chat gate too: 429 rate limit, 402 budget, or a cheaper model.
const requester = (c: C): Requester => ({ user: c.get("user"), requestId: c.get("requestId") });

const Id = uuidParams("id");
/** Room for a message's inline files as data URLs (base64: 4/3 of the bytes) and its text. */
const MAX_SEND_BODY_BYTES = 32 * 1024 * 1024;
const Ids = uuidParams("id", "messageId");
const STREAM_ERRORS = {
  402: "Monthly budget used up",
  404: "Not found",
  429: "Rate limited",
};

// --- Conversations -------------------------------------------------------------------------------
app.openapi(
  route({
    method: "get",
    path: "/",
    summary: "List conversations for the sidebar",
    auth: "user",
    request: { query: ListConversations },
    responses: { 200: json(ConversationPage, "A page of conversations with their sidebar group") },
    errors: { 400: "Bad query or cursor" },
  }),
  async (c) => {
    const page = await asUser(claims(c), (tx) => listConversations(tx, c.req.valid("query")));
    return c.json(page, 200);
  },
);

app.openapi(
  route({
    method: "post",
    path: "/",
    summary: "Create a conversation",
    auth: "user",
    request: { body: jsonBody(CreateConversation) },
    responses: { 201: json(Conversation, "The conversation") },
    errors: { 400: "Invalid body", 413: "Body too large", 415: "Not JSON", 422: "Unknown model" },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const row = await asUser(claims(c), async (tx) => {
      const model = body.model ?? (await chatSettings(tx)).defaultModel;
      await modelChain(tx, model); // 422 for an unknown model
      return await createConversation(tx, { ...body, model });
    });
    return c.json(conversationJson(row), 201);
  },
);

app.openapi(
  route({
    method: "get",
    path: "/{id}",
    summary: "A conversation with the newest messages of its active branch",
    auth: "user",
    request: { params: Id },
    responses: { 200: json(ConversationWithMessages, "The conversation and messages") },
    errors: { 400: "Bad id", 404: "Not found" },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const result = await asUser(claims(c), async (tx) => {
      const conversation = await findConversation(tx, id);
      const page = await messagePage(tx, id, { leaf: conversation.active_leaf_id, limit: 50 });
      return { ...conversationJson(conversation), ...page };
    });
    const messages = await withSignedLinks(c.get("user"), authorization(c), result.messages);
    return c.json({ ...result, messages }, 200);
  },
);

app.openapi(
  route({
    method: "patch",
    path: "/{id}",
    summary: "Rename, change model or prompt, pin, archive, switch branch",
    auth: "user",
    request: { params: Id, body: jsonBody(UpdateConversation) },
    responses: { 200: json(Conversation, "The conversation") },
    errors: {
      404: "Not found",
      422: "Unknown model or leaf",
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const change = c.req.valid("json");
    const row = await asUser(claims(c), (tx) => updateConversation(tx, id, change));
    return c.json(conversationJson(row), 200);
  },
);

app.openapi(
  route({
    method: "delete",
    path: "/{id}",
    summary:
      "Delete a conversation (its attached files and artifacts at once, the rest by retention)",
    auth: "user",
    request: { params: Id },
    responses: { 204: { description: "Deleted" } },
    errors: {
      400: "Bad id",
      404: "Not found",
      502: "The attached files or artifacts could not be removed; the conversation was not deleted",
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    await asUser(claims(c), (tx) => findConversation(tx, id)); // 404 before any file goes
    await removeConversationFiles(c.get("user"), authorization(c), id);
    await removeConversationArtifacts(claims(c), authorization(c), id);
    await asUser(claims(c), (tx) => softDeleteConversation(tx, id));
    return c.body(null, 204);
  },
);

app.openapi(
  route({
    method: "post",
    path: "/{id}/pin",
    summary: "Toggle the pin",
    auth: "user",
    request: { params: Id },
    responses: { 200: json(Conversation, "The conversation") },
    errors: { 400: "Bad id", 404: "Not found" },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const row = await asUser(claims(c), (tx) => togglePin(tx, id));
    return c.json(conversationJson(row), 200);
  },
);

app.openapi(
  route({
    method: "get",
    path: "/{id}/messages",
    summary: "Older messages of a branch",
    auth: "user",
    request: { params: Id, query: ListMessages },
    responses: { 200: json(MessagePage, "A page of messages") },
    errors: { 400: "Bad query or cursor", 404: "Not found" },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const page = await asUser(claims(c), async (tx) => {
      const conversation = await findConversation(tx, id);
      return await messagePage(tx, id, { ...q, leaf: q.leaf ?? conversation.active_leaf_id });
    });
    const messages = await withSignedLinks(c.get("user"), authorization(c), page.messages);
    return c.json({ ...page, messages }, 200);
  },
);

// --- Chat ----------------------------------------------------------------------------------------
type Mode = z.output<typeof StreamMode>["stream"];

function sse(mode: Mode, events: AsyncIterable<ChatStreamEvent>) {
  return mode === "simple"
    ? new Response(encodeSimpleStream(events), { headers: SIMPLE_STREAM_HEADERS })
    : new Response(encodeUiMessageStream(events), { headers: UI_STREAM_HEADERS });
}

/** Streams the new reply (or replays the one a repeated client_message_id already has). */
function respond(
  c: C,
  mode: Mode,
  prepared: Prepared,
  conversationId: string,
  sent?: SentFiles,
) {
  if ("existingReplyId" in prepared) {
    return sse(mode, replay(c.get("user"), conversationId, prepared.existingReplyId));
  }
  prepared.plan.readAttachment = attachmentReader(authorization(c), sent?.bytes);
  // Tools that store files (create_artifact) do it as the user, with their token.
  const { events, done } = startReply({ ...prepared.plan, authorization: authorization(c) });
  runInBackground(done); // the reply goes on if the client leaves
  return sse(mode, events.read());
}

app.openapi(
  route({
    method: "post",
    path: "/{id}/messages",
    summary: "Send a message and stream the reply",
    auth: "user",
    request: { params: Id, query: StreamMode, body: jsonBody(SendBody) },
    // Inline files (data URLs) make bodies large; each file and message has its own limit.
    bodyLimit: MAX_SEND_BODY_BYTES,
    responses: { 200: eventStream("The reply, as Server-Sent Events") },
    errors: {
      ...STREAM_ERRORS,
      409: "Repeated client_message_id without a reply",
      413: "Body, attachment or a message's attachments too large (payload_too_large)",
      415: "Not JSON, or an attachment's media type not allowed (unsupported_media_type)",
      422: "Unknown model, parent, document or attachment; too many attachments; a bad data " +
        "URL; a file the model cannot read (unsupported_attachment)",
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const input = sendInput(c.req.valid("json"));
    const mode = c.req.valid("query").stream;
    if ("regenerate" in input) {
      await checkRegenerateFiles(c.get("user"), id, input.regenerate, input.model);
    }
    if ("regenerate" in input || !input.files) {
      return respond(c, mode, await prepareReply(requester(c), id, input), id);
    }
    // Files are stored before the send's statement: the rate limit and budget come first.
    const who = { ...requester(c), gated: true };
    await chatGate(c);
    const sent = await storeSendFiles(who.user, authorization(c), id, input.files, input.model);
    let prepared: Prepared;
    try {
      prepared = await prepareReply(who, id, { ...input, attachments: sent.parts });
    } catch (e) {
      await sent.discard();
      throw e;
    }
    if ("existingReplyId" in prepared) await sent.discard(); // a repeat: the first send has them
    return respond(c, mode, prepared, id, sent);
  },
);

app.openapi(
  route({
    method: "post",
    path: "/{id}/messages/{messageId}/regenerate",
    summary: "A new reply as a sibling of the old one",
    auth: "user",
    request: { params: Ids, query: StreamMode, body: jsonBody(Regenerate, { optional: true }) },
    responses: { 200: eventStream("The reply, as Server-Sent Events") },
    errors: {
      ...STREAM_ERRORS,
      422: "Unknown model, or one that cannot read the message's files (unsupported_attachment)",
    },
  }),
  async (c) => {
    const { id, messageId } = c.req.valid("param");
    const { model } = c.req.valid("json");
    await checkRegenerateFiles(c.get("user"), id, messageId, model);
    const prepared = await prepareReply(requester(c), id, { regenerate: messageId, model });
    return respond(c, c.req.valid("query").stream, prepared, id);
  },
);

app.openapi(
  route({
    method: "get",
    path: "/{id}/messages/{messageId}/stream",
    summary: "Resume a reply: what was generated so far, then the rest",
    description:
      "With the conversation's own id as {messageId}, as the AI SDK's `useChat({resume: true})` " +
      "asks (`GET {api}/{chatId}/stream`): the conversation's reply in progress, or 204 when " +
      "nothing is being generated.",
    auth: "user",
    request: { params: Ids, query: StreamMode },
    responses: {
      200: eventStream("The reply, as Server-Sent Events"),
      204: { description: "Nothing is being generated in this conversation" },
    },
    errors: { 400: "Bad id", 404: "Not found" },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    let { messageId } = c.req.valid("param");
    if (messageId === id) {
      const running = await replyInProgress(c.get("user"), id);
      if (!running) return c.body(null, 204);
      messageId = running;
    } else if (!(await replyExists(c.get("user"), id, messageId))) {
      throw new ApiError(404, "not_found", "Message not found");
    }
    return sse(c.req.valid("query").stream, replay(c.get("user"), id, messageId));
  },
);

app.openapi(
  route({
    method: "post",
    path: "/{id}/messages/{messageId}/stop",
    summary: "Stop a reply being generated",
    auth: "user",
    request: { params: Ids },
    responses: {
      200: json(Message, "The stopped message"),
      202: json(Message, "Asked to stop; still finishing"),
    },
    errors: { 400: "Bad id", 404: "Not found" },
  }),
  async (c) => {
    const { id, messageId } = c.req.valid("param");
    const { message, running } = await stopReply(claims(c), id, messageId);
    return running ? c.json(message, 202) : c.json(message, 200);
  },
);

// --- Attachments ---------------------------------------------------------------------------------
const AttachmentUpload = {
  type: "object",
  properties: { file: { type: "string", format: "binary" } },
  required: ["file"],
} as Record<string, unknown> as { type: "object" };

app.openapi(
  route({
    method: "post",
    path: "/{id}/attachments",
    summary: "Upload a file to send with a message (multipart form field `file`)",
    description: "Images (png, jpeg, webp, gif), PDFs and text files, within the " +
      "`chat.attachments.*` settings. Send it with `attachments: [id]` in a message body.",
    auth: "user",
    request: {
      params: Id,
      body: {
        required: true,
        content: {
          // Described, not validated by the router: uploadAttachment reads the form itself.
          "multipart/form-data": { schema: AttachmentUpload },
        },
      },
    },
    responses: { 201: json(Attachment, "The stored attachment, with a signed link") },
    errors: {
      400: "Bad id or form",
      404: "Not found",
      413: "File too large (payload_too_large)",
      415: "Media type not allowed (unsupported_media_type)",
      422: "The bytes are not what the media type says (invalid_attachment)",
      502: "Storage failed",
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await uploadAttachment(c, id), 201);
  },
);

app.openapi(
  route({
    method: "delete",
    path: "/{id}/attachments/{attachmentId}",
    summary: "Delete an attachment: its file and its row (messages that carried it keep the part)",
    auth: "user",
    request: { params: uuidParams("id", "attachmentId") },
    responses: { 204: { description: "Deleted" } },
    errors: { 400: "Bad id", 404: "Not found", 502: "Storage did not remove the file" },
  }),
  async (c) => {
    const { id, attachmentId } = c.req.valid("param");
    await removeAttachment(c.get("user"), authorization(c), id, attachmentId);
    return c.body(null, 204);
  },
);

// --- Feedback ------------------------------------------------------------------------------------
app.openapi(
  route({
    method: "post",
    path: "/{id}/messages/{messageId}/feedback",
    summary: "Rate a reply (thumbs up or down, optional comment); sending again replaces it",
    auth: "user",
    request: { params: Ids, body: jsonBody(FeedbackBody) },
    responses: { 200: json(Feedback, "The feedback as stored") },
    errors: {
      404: "Not found",
      422: "Not an assistant reply",
    },
  }),
  async (c) => {
    const { id, messageId } = c.req.valid("param");
    const feedback = await asUser(
      claims(c),
      (tx) => rateReply(tx, id, messageId, c.req.valid("json")),
    );
    return c.json(feedback, 200);
  },
);

// --- Export --------------------------------------------------------------------------------------
app.openapi(
  route({
    method: "get",
    path: "/{id}/export",
    summary: "Download the active branch as JSON or Markdown",
    auth: "user",
    request: { params: Id, query: ExportQuery },
    responses: {
      200: {
        description: "The conversation as a file (Content-Disposition: attachment)",
        content: {
          "application/json": { schema: ConversationExport },
          "text/markdown": { schema: z.string() },
        },
      },
    },
    errors: { 400: "Bad id or format", 404: "Not found" },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { format } = c.req.valid("query");
    const stored = await asUser(claims(c), (tx) => exportConversation(tx, id));
    const exported = {
      ...stored,
      messages: await withSignedLinks(c.get("user"), authorization(c), stored.messages),
    };
    const markdown = format === "markdown";
    const name = exportFileName(exported, markdown ? "md" : "json");
    return new Response(markdown ? exportMarkdown(exported) : JSON.stringify(exported), {
      headers: {
        "content-type": markdown ? "text/markdown; charset=utf-8" : "application/json",
        "content-disposition": `attachment; filename="${name}"`,
      },
    });
  },
);

// --- Artifacts: files chat tools made ------------------------------------------------------------
artifactRoutes(app);

// --- Share links ---------------------------------------------------------------------------------
const ShareIds = uuidParams("id", "shareId");

app.openapi(
  route({
    method: "post",
    path: "/{id}/share",
    summary: "Make a read-only link to the active branch as it is now",
    description: "The token is in this answer only (Aide stores its hash). Anyone with the link " +
      "reads the copy at `GET /shared/{token}` without signing in; later messages never show.",
    auth: "user",
    request: { params: Id, body: jsonBody(CreateShare, { optional: true }) },
    responses: { 201: json(NewShare, "The share, with its token and link") },
    errors: { 400: "Invalid body", 404: "Not found", 413: "Body too large", 415: "Not JSON" },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    // An absent body is not parsed, so its defaults do not apply.
    const includeAttachments = c.req.valid("json")?.include_attachments ?? false;
    const share = await asUser(claims(c), (tx) => createShare(tx, id, includeAttachments));
    return c.json({ ...share, url: shareUrl(share.token) }, 201);
  },
);

app.openapi(
  route({
    method: "get",
    path: "/{id}/shares",
    summary: "The conversation's share links (without their tokens)",
    auth: "user",
    request: { params: Id },
    responses: { 200: json(ShareList, "Shares, newest first") },
    errors: { 400: "Bad id", 404: "Not found" },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const shares = await asUser(claims(c), (tx) => listShares(tx, id));
    return c.json({ shares }, 200);
  },
);

app.openapi(
  route({
    method: "delete",
    path: "/{id}/shares/{shareId}",
    summary: "Revoke a share link (it stops working at once)",
    auth: "user",
    request: { params: ShareIds },
    responses: { 204: { description: "Revoked" } },
    errors: { 400: "Bad id", 404: "Not found" },
  }),
  async (c) => {
    const { id, shareId } = c.req.valid("param");
    await asUser(claims(c), (tx) => deleteShare(tx, id, shareId));
    return c.body(null, 204);
  },
);
