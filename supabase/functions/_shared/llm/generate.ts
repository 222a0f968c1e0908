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
  /** Replies it took (1: valid the first time). */
  rounds: number;
}

/**
 * Asks for JSON matching `schema`: natively (OpenAI `response_format` json_schema, Anthropic a
 * forced tool call, see ResponseFormat) and, for OpenAI-compatible servers that ignore that,
 * described as JSON Schema in the system prompt too. Validates the reply (the forced tool's
 * input, else the text), and on failure asks again with the problem fed back, at most
 * `maxRepairs` times. Then throws an `invalid_output` LlmError carrying the last issues.
 * `check` adds rules a schema cannot state (e.g. "cite only ids you were given"); it returns
 * the problems found, or none.
 */
export async function generateObject<T>(
  chain: ModelSpec[],
  req: ChatRequest,
  schema: z.ZodType<T>,
  opts: StreamOptions & {
    maxRepairs?: number;
    name?: string;
    check?: (value: T) => string[];
  } = {},
): Promise<ObjectResult<T>> {
  const { maxRepairs = 2, name = "answer", check, ...streamOpts } = opts;
  const jsonSchema = z.toJSONSchema(schema, { unrepresentable: "any" }) as Record<string, unknown>;
  delete jsonSchema.$schema;
  const instructions =
    "Reply with only a JSON value that matches this JSON Schema, no other text:\n" +
    JSON.stringify(jsonSchema);
  const system = req.system ? `${req.system}\n\n${instructions}` : instructions;
  // Both providers take an object at the root only; other schemas rely on the instructions.
  const responseFormat = jsonSchema.type === "object" ? { name, schema: jsonSchema } : undefined;
  let messages: LlmMessage[] = req.messages;
  let usage = emptyUsage();

  for (let round = 0;; round++) {
    const reply = await generateText(
      chain,
      { ...req, system, messages, responseFormat },
      streamOpts,
    );
    usage = addUsage(usage, reply.usage);
    const forced = reply.toolCalls.find((call) => call.name === name);
    const raw = forced ? JSON.stringify(forced.input) : reply.text;
    const parsed = parseReply(raw, schema, check);
    if (parsed.success) {
      return { object: parsed.data, usage, model: reply.model, rounds: round + 1 };
    }
    if (round >= maxRepairs) {
      throw new LlmError(
        "invalid_output",
        `no valid JSON after ${round + 1} replies: ${parsed.problem}`,
        reply.model.provider,
        reply.model.alias,
        { issues: parsed.issues },
      );
    }
    // The reply goes back as it came (a tool call gets its result), then the problem.
    const feedback =
      `That reply was not valid:\n${parsed.problem}\nReply again with only the corrected JSON.`;
    messages = forced
      ? [
        ...messages,
        { role: "assistant", content: [{ type: "tool_call", ...forced }] },
        {
          role: "user",
          content: [
            { type: "tool_result", toolCallId: forced.id, output: feedback, isError: true },
            { type: "text", text: feedback },
          ],
        },
      ]
      : [
        ...messages,
        { role: "assistant", content: reply.text },
        { role: "user", content: feedback },
      ];
  }
}

type Parsed<T> = { success: true; data: T } | {
  success: false;
  problem: string;
  issues: unknown[];
};

function parseReply<T>(
  text: string,
  schema: z.ZodType<T>,
  check?: (value: T) => string[],
): Parsed<T> {
  let value: unknown;
  try {
    value = JSON.parse(extractJson(text));
  } catch (err) {
    const problem = `not valid JSON (${(err as Error).message})`;
    return { success: false, problem, issues: [{ message: problem }] };
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    return { success: false, problem: z.prettifyError(result.error), issues: result.error.issues };
  }
  const problems = check?.(result.data) ?? [];
  return problems.length
    ? {
      success: false,
      problem: problems.join("\n"),
      issues: problems.map((message) => ({ message })),
    }
    : { success: true, data: result.data };
}

/** The JSON inside a ```json fence if there is one, else from the first `{`/`[` to the last `}`/`]`. */
function extractJson(text: string): string {
  const fenced = text.match(/```(?:json)?\s*\n?([\s\S]*?)```/);
  if (fenced) return fenced[1].trim();
  const start = text.search(/[[{]/);
  const end = Math.max(text.lastIndexOf("}"), text.lastIndexOf("]"));
  return start >= 0 && end > start ? text.slice(start, end + 1) : text.trim();
}
