// Tools the chat model may call. Each has a JSON Schema for the model and a zod schema that
// checks what the model sent before the tool runs.
import { z } from "zod";
import type { ToolSpec } from "../llm/types.ts";

export interface ToolContext {
  userId: string;
  timezone: string;
}

export interface Tool {
  spec: ToolSpec;
  run(input: unknown, ctx: ToolContext): Promise<unknown>;
}

function defineTool<S extends z.ZodType>(
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

const ianaZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "not an IANA time zone");

export const currentTime = defineTool(
  "get_current_time",
  "The current date and time, in the user's time zone unless another IANA time zone is given.",
  z.object({ timezone: ianaZone.optional() }),
  ({ timezone }, ctx) => {
    const zone = timezone ?? ctx.timezone;
    const now = new Date();
    const local = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      dateStyle: "full",
      timeStyle: "long",
    }).format(now);
    return Promise.resolve({ utc: now.toISOString(), timezone: zone, local });
  },
);

/** The tools offered in chat. */
export const chatTools: Tool[] = [currentTime];
