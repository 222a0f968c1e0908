// Stored Aide messages as AI SDK UIMessages, to seed `useChat({ messages })` from history with
// the same parts the live stream produces (text, reasoning, tools, citations as sources).
import type { UIMessage } from "ai";
import type { components } from "./generated/openapi.ts";

/** Stored message parts (messages.parts), as the OpenAPI document describes them. */
export type StoredPart = components["schemas"]["MessagePart"];

/** What the conversion reads of a message the API returned. */
export type StoredMessage =
  & Pick<
    components["schemas"]["Message"],
    "id" | "parent_id" | "role" | "status" | "content"
  >
  & { parts: StoredPart[] | null; sibling_ids?: string[] };

/** What each UIMessage carries besides its parts. */
export interface AideMessageMetadata {
  parentId: string | null;
  status: string;
  /** Ids of the messages with the same parent, this one included (when the API sends them). */
  siblingIds?: string[];
  error?: { code: string; message: string };
}

export type AideUIMessage = UIMessage<AideMessageMetadata>;

export function toUIMessage(message: StoredMessage): AideUIMessage {
  const parts: AideUIMessage["parts"] = [];
  const stored = message.parts ??
    (message.content ? [{ type: "text", text: message.content }] : []);
  const results = new Map(
    stored.filter((p) => p.type === "tool_result").map((
      p,
    ) => [p.tool_call_id, p]),
  );
  let error: AideMessageMetadata["error"];
  for (const p of stored) {
    switch (p.type) {
      case "text":
        parts.push({ type: "text", text: p.text, state: "done" });
        break;
      case "reasoning":
        parts.push({ type: "reasoning", text: p.text, state: "done" });
        break;
      case "tool_call": {
        const result = results.get(p.id);
        parts.push(
          result?.is_error
            ? {
              type: "dynamic-tool",
              toolName: p.name,
              toolCallId: p.id,
              state: "output-error",
              input: p.input,
              errorText: JSON.stringify(result.output),
            }
            : result
            ? {
              type: "dynamic-tool",
              toolName: p.name,
              toolCallId: p.id,
              state: "output-available",
              input: p.input,
              output: result.output,
            }
            : {
              type: "dynamic-tool",
              toolName: p.name,
              toolCallId: p.id,
              state: "input-available",
              input: p.input,
            },
        );
        break;
      }
      case "citation": {
        const sourceId = `${p.document_id}#${p.chunk_index}`;
        const aide = {
          documentId: p.document_id,
          chunkIndex: p.chunk_index,
          snippet: p.snippet,
        };
        parts.push(
          p.url === undefined
            ? {
              type: "source-document",
              sourceId,
              mediaType: "text/plain",
              title: p.title,
              providerMetadata: { aide },
            }
            : {
              type: "source-url",
              sourceId,
              url: p.url,
              title: p.title,
              providerMetadata: { aide },
            },
        );
        break;
      }
      case "attachment":
        // A file the user sent, as useChat shows it: the signed link the API answered with.
        if (p.url) {
          parts.push({
            type: "file",
            mediaType: p.media_type,
            filename: p.filename,
            url: p.url,
          });
        }
        break;
      case "error":
        error = { code: p.code, message: p.message };
        break;
    }
  }
  return {
    id: message.id,
    role: message.role === "user"
      ? "user"
      : message.role === "system"
      ? "system"
      : "assistant",
    parts,
    metadata: {
      parentId: message.parent_id,
      status: message.status,
      ...(message.sibling_ids ? { siblingIds: message.sibling_ids } : {}),
      ...(error ? { error } : {}),
    },
  };
}

export const toUIMessages = (messages: StoredMessage[]) =>
  messages.map(toUIMessage);

/** A cited passage of a UIMessage source part (from the live stream or from history). */
export interface SourceCitation {
  sourceId: string;
  title: string;
  documentId?: string;
  chunkIndex?: number;
  snippet?: string;
  url?: string;
}

/** The citations of a message, each passage once. */
export function citationsOf(message: UIMessage): SourceCitation[] {
  const seen = new Map<string, SourceCitation>();
  for (const p of message.parts) {
    if (p.type !== "source-document" && p.type !== "source-url") continue;
    const aide = (p.providerMetadata?.aide ?? {}) as {
      documentId?: string;
      chunkIndex?: number;
      snippet?: string;
    };
    seen.set(p.sourceId, {
      sourceId: p.sourceId,
      title: p.title ?? "",
      ...aide,
      ...(p.type === "source-url" ? { url: p.url } : {}),
    });
  }
  return [...seen.values()];
}
