// Non-streaming helpers on top of streamChat, for titles, summaries and structured planning.
import { z } from "zod";
import { addUsage, emptyUsage } from "./common.ts";
import { LlmError } from "./errors.ts";
import { streamChat, type StreamOptions } from "./stream.ts";
import type { ChatRequest, FinishReason, LlmMessage, ModelSpec, Usage } from "./types.ts";

export interface TextResult {
  text: string;
  toolCalls: { id: string; name: string; input: unknown }[];
  /** Of the attempt that served; every attempt's usage goes to `opts.onAttempt`. */
  usage: Usage;
  finishReason: FinishReason;
  /** The model of the chain that served. */
  model: ModelSpec;
}

export async function generateText(
  chain: ModelSpec[],
  req: ChatRequest,
  opts: StreamOptions = {},
): Promise<TextResult> {
  const stream = streamChat(chain, req, opts);
  let text = "";
  const toolCalls: TextResult["toolCalls"] = [];
  for await (const event of stream) {
    if (event.type === "text") text += event.delta;
    else if (event.type === "tool_call") {
      toolCalls.push({ id: event.id, name: event.name, input: event.input });
    } else if (event.type === "finish") {
      return {
        text,
        toolCalls,
        usage: event.usage,
        finishReason: event.reason,
        model: stream.model!,
      };
    }
  }
  throw new Error("unreachable: streamChat ends with a finish event or throws");
}

export interface ObjectResult<T> {
  object: T;
  /** Summed over the repair rounds. */
  usage: Usage;
  model: ModelSpec;
}

/**
 * Asks for JSON matching `schema` (described to the model as JSON Schema in the system prompt),
 * validates the reply, and on failure asks again with the problem fed back, at most `maxRepairs`
 * times. Then throws an `invalid_output` LlmError carrying the last issues.
 */
export async function generateObject<T>(
  chain: ModelSpec[],
  req: ChatRequest,
  schema: z.ZodType<T>,
  opts: StreamOptions & { maxRepairs?: number } = {},
): Promise<ObjectResult<T>> {
  const { maxRepairs = 2, ...streamOpts } = opts;
  const instructions =
    "Reply with only a JSON value that matches this JSON Schema, no other text:\n" +
    JSON.stringify(z.toJSONSchema(schema));
  const system = req.system ? `${req.system}\n\n${instructions}` : instructions;
  let messages: LlmMessage[] = req.messages;
  let usage = emptyUsage();

  for (let round = 0;; round++) {
    const reply = await generateText(chain, { ...req, system, messages }, streamOpts);
    usage = addUsage(usage, reply.usage);
    const parsed = parseReply(reply.text, schema);
    if (parsed.success) return { object: parsed.data, usage, model: reply.model };
    if (round >= maxRepairs) {
      throw new LlmError(
        "invalid_output",
        `no valid JSON after ${round + 1} replies: ${parsed.problem}`,
        reply.model.provider,
        reply.model.alias,
        { issues: parsed.issues },
      );
    }
    messages = [
      ...messages,
      { role: "assistant", content: reply.text },
      {
        role: "user",
        content:
          `That reply was not valid:\n${parsed.problem}\nReply again with only the corrected JSON.`,
      },
    ];
  }
}

type Parsed<T> = { success: true; data: T } | {
  success: false;
  problem: string;
  issues: unknown[];
};

function parseReply<T>(text: string, schema: z.ZodType<T>): Parsed<T> {
  let value: unknown;
  try {
    value = JSON.parse(extractJson(text));
  } catch (err) {
    const problem = `not valid JSON (${(err as Error).message})`;
    return { success: false, problem, issues: [{ message: problem }] };
  }
  const result = schema.safeParse(value);
  return result.success
    ? { success: true, data: result.data }
    : { success: false, problem: z.prettifyError(result.error), issues: result.error.issues };
}

/** The JSON inside a ```json fence if there is one, else from the first `{`/`[` to the last `}`/`]`. */
function extractJson(text: string): string {
  const fenced = text.match(/```(?:json)?\s*\n?([\s\S]*?)```/);
  if (fenced) return fenced[1].trim();
  const start = text.search(/[[{]/);
  const end = Math.max(text.lastIndexOf("}"), text.lastIndexOf("]"));
  return start >= 0 && end > start ? text.slice(start, end + 1) : text.trim();
}
