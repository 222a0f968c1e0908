// Request shapes of the conversations API, validated at the edge (and the source of its
// OpenAPI description). Unknown fields are rejected.
import { z } from "zod";

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
});

export const SendBody = z.union([SendMessage, UseChatRequest]);

export const Regenerate = z.strictObject({ model: modelAlias.optional() });
