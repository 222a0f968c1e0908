// A tool the chat model may call: a JSON Schema for the model, and a zod schema that checks
// what the model sent before the tool runs.
import { z } from "zod";
import type { JwtClaims } from "./db.ts";
import type { ToolSpec } from "./llm/types.ts";
import type { Citation } from "./stream/events.ts";

export interface ToolContext {
  claims: JwtClaims;
  timezone: string;
  requestId: string;
  /** Records a passage the answer may draw on: stored on the message and sent to the client. */
  cite(citation: Citation): void;
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
