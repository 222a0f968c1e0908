// Encoder to the Vercel AI SDK UI message stream v1, exactly as the pinned `ai` (7.0.173)
// defines it (`uiMessageChunkSchema`, `JsonToSseTransformStream`), so `useChat` needs no
// client code. Only the type is imported: the package stays out of the function bundle.
import type { UIMessageChunk } from "ai";
import { type ChatStreamEvent, citationKey } from "./events.ts";
import { type FrameEncoder, sseData, type SseStreamOptions, toSseStream } from "./sse.ts";

/** A copy of the package's UI_MESSAGE_STREAM_HEADERS (a test keeps the two equal). */
export const UI_STREAM_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-vercel-ai-ui-message-stream": "v1",
  "x-accel-buffering": "no",
} as const;

/** Encodes a reply as UI message chunks, one `data: <json>` each, ending with `data: [DONE]`. */
export function encodeUiMessageStream(
  events: AsyncIterable<ChatStreamEvent>,
  options?: SseStreamOptions,
): ReadableStream<Uint8Array> {
  return toSseStream(events, uiMessageEncoder(), options);
}

/**
 * The mapping, stateful because the client is: it throws on a delta or end for a part it has
 * not seen opened, so parts are opened on their first delta, closed before a step ends and
 * before the stream ends, and chunks for unknown parts or tool calls are dropped.
 */
function uiMessageEncoder(): FrameEncoder {
  const openText = new Set<string>();
  const openReasoning = new Set<string>();
  const toolCalls = new Set<string>();
  const sources = new Set<string>();

  const closeParts = (): UIMessageChunk[] => {
    const chunks: UIMessageChunk[] = [];
    for (const id of openReasoning) chunks.push({ type: "reasoning-end", id });
    for (const id of openText) chunks.push({ type: "text-end", id });
    openReasoning.clear();
    openText.clear();
    return chunks;
  };

  const chunksFor = (e: ChatStreamEvent): UIMessageChunk[] => {
    switch (e.type) {
      case "start":
        // conversationId lands in message.metadata: a new conversation's id reaches the client.
        return [{
          type: "start",
          messageId: e.messageId,
          messageMetadata: { conversationId: e.conversationId },
        }];
      case "step-start":
        return [{ type: "start-step" }];
      case "step-finish":
        return [...closeParts(), { type: "finish-step" }];
      case "text-delta": {
        // The common case, once per token: the event has the chunk's very fields.
        if (openText.has(e.id)) return [e satisfies UIMessageChunk];
        openText.add(e.id);
        return [{ type: "text-start", id: e.id }, { type: "text-delta", id: e.id, delta: e.delta }];
      }
      case "text-end":
        return openText.delete(e.id) ? [{ type: "text-end", id: e.id }] : [];
      case "reasoning-delta": {
        const chunks: UIMessageChunk[] = [];
        if (!openReasoning.has(e.id)) chunks.push({ type: "reasoning-start", id: e.id });
        openReasoning.add(e.id);
        chunks.push({ type: "reasoning-delta", id: e.id, delta: e.delta });
        return chunks;
      }
      case "reasoning-end":
        return openReasoning.delete(e.id) ? [{ type: "reasoning-end", id: e.id }] : [];
      case "tool-input-start":
        toolCalls.add(e.toolCallId);
        return [{ type: "tool-input-start", toolCallId: e.toolCallId, toolName: e.toolName }];
      case "tool-input-delta":
        return toolCalls.has(e.toolCallId)
          ? [{ type: "tool-input-delta", toolCallId: e.toolCallId, inputTextDelta: e.delta }]
          : [];
      case "tool-input-available":
        toolCalls.add(e.toolCallId);
        return [{
          type: "tool-input-available",
          toolCallId: e.toolCallId,
          toolName: e.toolName,
          input: e.input,
        }];
      case "tool-output-available":
        return toolCalls.has(e.toolCallId)
          ? [{ type: "tool-output-available", toolCallId: e.toolCallId, output: e.output }]
          : [];
      case "tool-output-error":
        return toolCalls.has(e.toolCallId)
          ? [{ type: "tool-output-error", toolCallId: e.toolCallId, errorText: e.errorText }]
          : [];
      case "citation": {
        const c = e.citation;
        const sourceId = citationKey(c);
        if (sources.has(sourceId)) return [];
        sources.add(sourceId);
        // providerMetadata is the schema's only slot for extra fields; namespaced as ours.
        const aide = { documentId: c.documentId, chunkIndex: c.chunkIndex, snippet: c.snippet };
        return [
          c.url === undefined
            ? {
              type: "source-document",
              sourceId,
              mediaType: "text/plain",
              title: c.title,
              providerMetadata: { aide },
            }
            : {
              type: "source-url",
              sourceId,
              url: c.url,
              title: c.title,
              providerMetadata: { aide },
            },
        ];
      }
      case "title":
        // Not transient: the title belongs in the message parts. The fixed id makes a later
        // title replace the earlier part instead of adding one.
        return [{ type: "data-title", id: "title", data: { title: e.title } }];
      case "notice":
        return [{ type: "data-notice", data: { code: e.code, message: e.message } }];
      case "data":
        return [{ type: `data-${e.name}`, id: e.id, data: e.data }];
      case "finish":
        return [
          ...closeParts(),
          e.metadata === undefined
            ? { type: "finish", finishReason: e.finishReason }
            : { type: "finish", finishReason: e.finishReason, messageMetadata: e.metadata },
        ];
      case "error":
        return [...closeParts(), { type: "error", errorText: e.message }];
      case "abort":
        return [
          ...closeParts(),
          e.reason === undefined ? { type: "abort" } : { type: "abort", reason: e.reason },
        ];
    }
  };

  return {
    event: (e) => chunksFor(e).map(sseData),
    // Parts still open when the source ran dry get closed; [DONE] ends every stream.
    end: () => [...closeParts().map(sseData), "data: [DONE]\n\n"],
  };
}
