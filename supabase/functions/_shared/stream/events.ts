// The protocol-neutral events the chat orchestrator produces for one assistant reply. The
// encoders in this folder turn them into a wire protocol (AI SDK UI message stream, or the
// OxyChat seed's simple SSE events).
import type { FinishReason } from "../llm/types.ts";

export type { FinishReason };

export interface Citation {
  documentId: string;
  chunkIndex: number;
  title: string;
  snippet: string;
  url?: string;
}

export type ChatStreamEvent =
  | { type: "start"; messageId: string; conversationId: string }
  | { type: "step-start" }
  | { type: "step-finish" }
  /** `id` is the part id; the first delta of an id opens the part. */
  | { type: "text-delta"; id: string; delta: string }
  | { type: "text-end"; id: string }
  | { type: "reasoning-delta"; id: string; delta: string }
  | { type: "reasoning-end"; id: string }
  | { type: "tool-input-start"; toolCallId: string; toolName: string }
  /** A fragment of the tool input's JSON text. */
  | { type: "tool-input-delta"; toolCallId: string; delta: string }
  | { type: "tool-input-available"; toolCallId: string; toolName: string; input: unknown }
  | { type: "tool-output-available"; toolCallId: string; output: unknown }
  | { type: "tool-output-error"; toolCallId: string; errorText: string }
  | { type: "citation"; citation: Citation }
  | { type: "title"; title: string }
  /** A typed data part of the message (e.g. the planner's `plan`); a later one with the same
   * name and id replaces it. */
  | { type: "data"; name: string; id: string; data: unknown }
  /** Something the user should know, e.g. a budget downgrade to a cheaper model. */
  | { type: "notice"; code: string; message: string }
  | {
    type: "finish";
    messageId: string;
    finishReason: FinishReason;
    metadata?: Record<string, unknown>;
  }
  | { type: "error"; code: string; message: string }
  | { type: "abort"; reason?: string };

/** finish, error and abort end the stream: encoders ignore (and stop reading) anything after. */
export function isTerminal(event: ChatStreamEvent): boolean {
  return event.type === "finish" || event.type === "error" || event.type === "abort";
}

/** One key per cited passage, to send each citation once. */
export function citationKey(c: Citation): string {
  return `${c.documentId}#${c.chunkIndex}`;
}
