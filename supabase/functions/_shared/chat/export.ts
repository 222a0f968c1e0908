// A conversation's active branch as a file: JSON (the API's own shapes) or Markdown (for people).
// Read as the user, so only their own conversations export.
import type { Tx } from "../db.ts";
import { conversationJson, findConversation, messagePage } from "./conversations.ts";
import type { Part } from "./parts.ts";

/** Longest branch exported in one file; a longer one is cut to its newest messages. */
export const MAX_EXPORT_MESSAGES = 10_000;

export type ExportedConversation = Awaited<ReturnType<typeof exportConversation>>;

/** The conversation and every message of its active branch, oldest first. */
export async function exportConversation(tx: Tx, id: string) {
  const conversation = await findConversation(tx, id);
  const page = await messagePage(tx, id, {
    leaf: conversation.active_leaf_id,
    limit: MAX_EXPORT_MESSAGES,
  });
  return {
    conversation: conversationJson(conversation),
    messages: page.messages,
    truncated: page.next_cursor !== null,
    exported_at: new Date(),
  };
}

/** One part as Markdown; parts a reader does not need (steps, reasoning, titles) are left out. */
function partMarkdown(part: Part): string | null {
  switch (part.type) {
    case "text":
      return part.text;
    case "tool_call":
      return `> Tool call \`${part.name}\`: \`${JSON.stringify(part.input)}\``;
    case "tool_result":
      return `> Tool result \`${part.name}\`${part.is_error ? " (error)" : ""}: \`${
        JSON.stringify(part.output)
      }\``;
    case "citation":
      return `> Source: ${part.title}${part.url ? ` (${part.url})` : ""}`;
    case "file":
      return `> Document: ${part.title}`;
    case "artifact": // the file itself: GET /conversations/{id}/artifacts/{artifact id}
      return `> File \`${part.path}\` (${part.kind}, ${part.mime}, ${part.size} bytes, ` +
        `sha256 ${part.sha256}, artifact ${part.id})`;
    case "attachment":
      return `> Attachment: ${part.filename} (${part.media_type}, ${part.size} bytes)${
        part.url ? `: ${part.url}` : ""
      }`;
    case "notice":
    case "error":
      return `> ${part.message}`;
    default:
      return null;
  }
}

const ROLE = { user: "User", assistant: "Assistant", system: "System" } as const;

export function exportMarkdown(e: ExportedConversation): string {
  const lines = [`# ${e.conversation.title ?? "Untitled conversation"}`, ""];
  lines.push(`Exported ${e.exported_at.toISOString()} · model ${e.conversation.model}`, "");
  if (e.truncated) lines.push(`(Only the newest ${MAX_EXPORT_MESSAGES} messages.)`, "");
  for (const m of e.messages) {
    const who = m.role === "assistant" && m.model ? `${ROLE[m.role]} (${m.model})` : ROLE[m.role];
    lines.push(`## ${who}`, "", `_${new Date(m.created_at).toISOString()}_`, "");
    for (const text of m.parts.map(partMarkdown)) if (text) lines.push(text, "");
  }
  return lines.join("\n");
}

/** A file name for the download: the title's letters and digits, or the id. */
export function exportFileName(e: ExportedConversation, extension: string) {
  const slug = (e.conversation.title ?? "").toLowerCase().replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "").slice(0, 60);
  return `${slug || e.conversation.id}.${extension}`;
}
