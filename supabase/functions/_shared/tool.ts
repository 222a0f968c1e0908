// A tool the chat model may call: a JSON Schema for the model, and a zod schema that checks
// what the model sent before the tool runs.
import { z } from "zod";
import type { JwtClaims } from "./db.ts";
import type { ToolSpec } from "./llm/types.ts";
import type { PartOf } from "./chat/parts.ts";
import type { Citation } from "./stream/events.ts";

export interface ToolContext {
  claims: JwtClaims;
  timezone: string;
  requestId: string;
  /** Where the tool runs: the reply being written, and the call being answered. */
  conversationId: string;
  messageId: string;
  toolCallId: string;
  /** The caller's Authorization header, for Storage as the user (absent: no files). */
  authorization?: string;
  /** Records a passage the answer may draw on: stored on the message and sent to the client. */
  cite(citation: Citation): void;
  /**
   * Records a file the tool stored: on the message and sent to the client; the call's stored
   * input becomes `storedInput` (without the file's text).
   */
  artifact(part: PartOf<"artifact">, storedInput: unknown): void;
}

/** A refusal the model reads as `{error, code}` in the tool's result. */
export class ToolError extends Error {
  constructor(readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

export interface Tool {
  spec: ToolSpec;
  run(input: unknown, ctx: ToolContext): Promise<unknown>;
}

export function defineTool<S extends z.ZodType>(
  name: string,
  description: string,
  input: S,
  run: (input: z.output<S>, ctx: ToolContext) => Promise<unknown>,
): Tool {
  return {
    spec: { name, description, parameters: z.toJSONSchema(input) as Record<string, unknown> },
    run: (raw, ctx) => run(input.parse(raw), ctx),
  };
}
