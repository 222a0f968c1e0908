// Request and response shapes of the conversations API: requests are validated at the edge
// (unknown fields are rejected), and both are its OpenAPI description.
import { z } from "@hono/zod-openapi";
import { FINISH_REASONS } from "../llm/types.ts";
import { UsageTotals } from "../usage.ts";
import { ArtifactPart, AttachmentPartSchema, PartSchema } from "./parts.ts";

const modelAlias = z.string().min(1).max(100);
const title = z.string().trim().min(1).max(300);
const systemPrompt = z.string().max(20_000);
const flag = z.enum(["true", "false"]).transform((v) => v === "true");
const limit = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

export const MAX_MESSAGE_CHARS = 100_000;

export const CreateConversation = z.strictObject({
  title: title.optional(),
  model: modelAlias.optional(),
  system_prompt: systemPrompt.optional(),
});

export const UpdateConversation = z.strictObject({
  title: title.optional(),
  model: modelAlias.optional(),
  system_prompt: systemPrompt.nullable().optional(),
  pinned: z.boolean().optional(),
  archived: z.boolean().optional(),
  /** Switch to another branch: the leaf message to show. */
  active_leaf_id: z.uuid().optional(),
}).refine((b) => Object.keys(b).length > 0, "Send at least one field to change");

export const ListConversations = z.strictObject({
  cursor: z.string().max(500).optional(),
  limit: limit(100, 30),
  q: z.string().trim().min(1).max(200).optional(),
  archived: flag.optional(),
  pinned: flag.optional(),
});

export const ListMessages = z.strictObject({
  before: z.string().max(500).optional(),
  limit: limit(100, 50),
  /** Read another branch than the active one. */
  leaf: z.uuid().optional(),
});

export const StreamMode = z.strictObject({
  stream: z.enum(["ui", "simple"]).default("ui"),
});

/** Aide's own body for sending a message. */
export const SendMessage = z.strictObject({
  content: z.string().trim().min(1).max(MAX_MESSAGE_CHARS),
  client_message_id: z.string().min(1).max(200).optional(),
  model: modelAlias.optional(),
  /** Omit to continue the active branch; give a message id (or null for the root) to edit. */
  parent_id: z.uuid().nullable().optional(),
  /** Documents to put in context (also `@[title](doc:<id>)` in the content). */
  mentions: z.array(z.uuid()).max(20).optional(),
  /** Files uploaded with POST /conversations/{id}/attachments, sent with this message. */
  attachments: z.array(z.uuid()).max(20).optional(),
});

/** The body the Vercel AI SDK's useChat sends; only its newest user message is used. */
export const UseChatRequest = z.object({
  id: z.string().max(200).optional(),
  messages: z.array(z.object({
    id: z.string().min(1).max(200),
    role: z.enum(["user", "assistant", "system"]),
    parts: z.array(z.looseObject({ type: z.string().max(100), text: z.string().optional() })).max(
      500,
    ),
  })).min(1).max(2000),
  trigger: z.enum(["submit-message", "regenerate-message"]).default("submit-message"),
  messageId: z.string().max(200).optional(),
  model: modelAlias.optional(),
  /** Uploaded files to send with the newest user message (`sendMessage(m, {body: {attachments}})`). */
  attachments: z.array(z.uuid()).max(20).optional(),
});

export const SendBody = z.union([SendMessage, UseChatRequest]);

export const Regenerate = z.strictObject({ model: modelAlias.optional() });

/** Feedback on a reply; sending it again replaces the rating and the comment. */
export const FeedbackBody = z.strictObject({
  rating: z.enum(["up", "down"]),
  comment: z.string().trim().min(1).max(2000).optional(),
});

// --- Export and share links ----------------------------------------------------------------------
export const ExportQuery = z.strictObject({
  format: z.enum(["json", "markdown"]).default("json"),
});

export const CreateShare = z.strictObject({
  /** Also show mentioned documents and citations (their titles and quoted snippets). */
  include_attachments: z.boolean().default(false),
});

// --- Pagination cursors (opaque to clients) -----------------------------------------------------
export const ListCursor = z.strictObject({
  p: z.boolean(),
  t: z.iso.datetime({ offset: true }),
  id: z.uuid(),
});
export const MessageCursor = z.strictObject({ id: z.uuid() });

// --- Responses -----------------------------------------------------------------------------------
const timestamp = z.iso.datetime({ offset: true });

export const Conversation = z.object({
  id: z.uuid(),
  title: z.string().nullable(),
  model: z.string(),
  system_prompt: z.string().nullable(),
  pinned: z.boolean(),
  pinned_at: timestamp.nullable(),
  archived: z.boolean(),
  archived_at: timestamp.nullable(),
  last_message_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
  /** The leaf of the branch shown; null until the first message. */
  active_leaf_id: z.uuid().nullable(),
  usage: UsageTotals,
  /** In lists: the sidebar group, in the user's time zone. */
  group: z.enum(["pinned", "today", "yesterday", "previous_7_days", "previous_30_days", "older"])
    .optional(),
}).openapi("Conversation");

export const Message = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  parent_id: z.uuid().nullable(),
  role: z.enum(["user", "assistant", "system"]),
  status: z.enum(["pending", "streaming", "complete", "error", "aborted"]),
  parts: z.array(PartSchema),
  /** The text parts joined. */
  content: z.string(),
  client_message_id: z.string().nullable(),
  model: z.string().nullable(),
  provider: z.string().nullable(),
  finish_reason: z.enum(FINISH_REASONS).nullable(),
  usage: UsageTotals,
  latency_ms: z.number().int().nullable(),
  ttft_ms: z.number().int().nullable(),
  error: z.object({ type: z.string(), details: z.unknown() }).nullable(),
  created_at: timestamp,
  completed_at: timestamp.nullable(),
}).openapi("Message");

export const Feedback = z.object({
  message_id: z.uuid(),
  rating: z.enum(["up", "down"]),
  comment: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
}).openapi("Feedback");

export const ConversationPage = z.object({
  conversations: z.array(Conversation),
  next_cursor: z.string().nullable(),
}).openapi("ConversationPage");

export const MessagePage = z.object({
  messages: z.array(Message),
  next_cursor: z.string().nullable(),
}).openapi("MessagePage");

export const ConversationWithMessages = Conversation.extend(MessagePage.shape)
  .openapi("ConversationWithMessages");

export const ConversationExport = z.object({
  conversation: Conversation,
  /** The active branch, oldest first. */
  messages: z.array(Message),
  /** True when the branch was longer than the export's limit (the newest messages are kept). */
  truncated: z.boolean(),
  exported_at: timestamp,
}).openapi("ConversationExport");

export const Share = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  include_attachments: z.boolean(),
  /** Messages in the frozen copy. */
  message_count: z.number().int(),
  created_at: timestamp,
}).openapi("Share");

export const NewShare = Share.extend({
  /** Shown only here: Aide keeps its hash. */
  token: z.string(),
  /** The link to give out: GET /shared/{token}. */
  url: z.string(),
}).openapi("NewShare");

export const ShareList = z.object({ shares: z.array(Share) }).openapi("ShareList");

/**
 * A part as a share's reader gets it (shares.ts `forReader`): an attachment without its storage
 * path, and in a share made with include_attachments, attachments and artifacts with a `url`
 * under the share's link (GET /shared/{token}/files/{fileId}).
 */
const FILE_PARTS = ["attachment", "artifact"];
export const SharedPartSchema = z.discriminatedUnion("type", [
  ...(PartSchema.options.filter((o) => !FILE_PARTS.includes(o.shape.type.value)) as unknown as [
    (typeof PartSchema.options)[number],
  ]),
  AttachmentPartSchema.omit({ path: true, url_expires_at: true }).strict(),
  ArtifactPart.extend({ url: z.string().optional() }),
]).openapi("SharedMessagePart");

export const SharedConversation = z.object({
  title: z.string().nullable(),
  shared_at: timestamp,
  messages: z.array(z.object({
    id: z.uuid(),
    role: z.enum(["user", "assistant"]),
    parts: z.array(SharedPartSchema),
    content: z.string(),
    model: z.string().nullable(),
    created_at: timestamp,
  })),
}).openapi("SharedConversation");

// --- Attachments -------------------------------------------------------------------------------
export const Attachment = AttachmentPartSchema
  .extend({ conversation_id: z.uuid(), created_at: timestamp })
  .openapi("Attachment");
