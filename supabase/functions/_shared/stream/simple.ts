// Encoder to the OxyChat seed's simple SSE events (`?stream=simple`): text as tokens,
// citations, title updates, then `done` or `error`. Reasoning and tool activity are not sent.
import { type ChatStreamEvent, type Citation, citationKey } from "./events.ts";
import { type FrameEncoder, sseData, type SseStreamOptions, toSseStream } from "./sse.ts";

export const SIMPLE_STREAM_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

export type SimpleStreamEvent =
  | { type: "token"; content: string }
  | { type: "citation"; citation: Citation }
  | { type: "title_update"; title: string }
  | { type: "notice"; code: string; message: string }
  | { type: "data"; name: string; id: string; data: unknown }
  | { type: "done"; message_id: string; citations: Citation[] }
  | { type: "error"; error: string; code: string };

export function encodeSimpleStream(
  events: AsyncIterable<ChatStreamEvent>,
  options?: SseStreamOptions,
): ReadableStream<Uint8Array> {
  return toSseStream(events, simpleEncoder(), options);
}

function simpleEncoder(): FrameEncoder {
  // `done` repeats every citation, each passage once.
  const citations = new Map<string, Citation>();

  const eventsFor = (e: ChatStreamEvent): SimpleStreamEvent[] => {
    switch (e.type) {
      case "text-delta":
        return e.delta === "" ? [] : [{ type: "token", content: e.delta }];
      case "citation": {
        const key = citationKey(e.citation);
        if (citations.has(key)) return [];
        citations.set(key, e.citation);
        return [{ type: "citation", citation: e.citation }];
      }
      case "title":
        return [{ type: "title_update", title: e.title }];
      case "notice":
        return [{ type: "notice", code: e.code, message: e.message }];
      case "data":
        return [{ type: "data", name: e.name, id: e.id, data: e.data }];
      case "finish":
        return [{ type: "done", message_id: e.messageId, citations: [...citations.values()] }];
      case "error":
        return [{ type: "error", error: e.message, code: e.code }];
      case "abort":
        return [{ type: "error", error: e.reason ?? "The reply was stopped.", code: "aborted" }];
      default:
        return [];
    }
  };

  return { event: (e) => eventsFor(e).map(sseData), end: () => [] };
}
