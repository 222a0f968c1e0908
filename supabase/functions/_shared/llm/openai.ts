// OpenAI Chat Completions adapter, also used for OpenAI-compatible servers (`spec.baseUrl`).
// Streams `chat.completions.create({stream: true})`; tool calls arrive as argument fragments
// keyed by index and are assembled here.
import type OpenAI from "openai";
import { openaiClient } from "./clients.ts";
import {
  type Adapter,
  fileText,
  outputText,
  parseToolInput,
  partsOf,
  streamEndedEarly,
} from "./common.ts";
import type {
  ChatRequest,
  FinishReason,
  LlmMessage,
  LlmPart,
  ModelSpec,
  ResponseFormat,
  Usage,
} from "./types.ts";

/** Compatible servers (vLLM, DeepSeek, ...) stream reasoning in this non-standard field. */
type Delta = OpenAI.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null };

export const streamOpenAI: Adapter = async function* (spec, req, signal, usage) {
  const stream = await openaiClient(spec).chat.completions.create(params(spec, req), { signal });
  const toolCalls = new Map<number, { id: string; name: string; json: string }>();
  let finish: FinishReason | null = null;

  for await (const chunk of stream) {
    // With include_usage, the last chunk has the usage and no choices.
    if (chunk.usage) setUsage(usage, chunk.usage);
    const choice = chunk.choices[0];
    if (!choice) continue;
    const delta: Delta = choice.delta;
    if (delta.reasoning_content) yield { type: "reasoning", delta: delta.reasoning_content };
    if (delta.content) yield { type: "text", delta: delta.content };
    for (const fragment of delta.tool_calls ?? []) {
      let call = toolCalls.get(fragment.index);
      if (!call) {
        call = { id: fragment.id ?? "", name: fragment.function?.name ?? "", json: "" };
        toolCalls.set(fragment.index, call);
        yield { type: "tool_call_start", id: call.id, name: call.name };
      }
      const args = fragment.function?.arguments;
      if (args) {
        call.json += args;
        yield { type: "tool_call_delta", id: call.id, delta: args };
      }
    }
    if (choice.finish_reason) {
      finish = finishReason(choice.finish_reason);
      for (const { id, name, json } of toolCalls.values()) {
        yield { type: "tool_call", id, name, input: parseToolInput(spec, name, json) };
      }
    }
  }
  if (!finish) throw streamEndedEarly(spec);
  yield { type: "finish", reason: finish, usage: { ...usage } };
};

function params(spec: ModelSpec, req: ChatRequest): OpenAI.ChatCompletionCreateParamsStreaming {
  const effort = spec.capabilities?.reasoning ? req.reasoning?.effort : undefined;
  return {
    model: spec.providerModel,
    messages: messages(req),
    stream: true,
    stream_options: { include_usage: true },
    max_completion_tokens: req.maxOutputTokens ?? spec.maxOutputTokens,
    ...(req.tools?.length
      ? {
        tools: req.tools.map((tool) => ({
          type: "function" as const,
          function: { name: tool.name, description: tool.description, parameters: tool.parameters },
        })),
      }
      : {}),
    ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
    ...(effort ? { reasoning_effort: effort } : {}),
    ...(req.responseFormat ? { response_format: responseFormat(req.responseFormat) } : {}),
  };
}

/** Strict mode only where the schema allows it (every property required, no extra ones). */
function responseFormat(format: ResponseFormat): OpenAI.ResponseFormatJSONSchema {
  return {
    type: "json_schema",
    json_schema: {
      name: format.name,
      ...(format.description ? { description: format.description } : {}),
      schema: format.schema,
      strict: strictCompatible(format.schema),
    },
  };
}

/** OpenAI's strict structured outputs: every object closed and listing all its properties. */
export function strictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(strictCompatible);
  if (typeof schema !== "object" || schema === null) return true;
  const s = schema as Record<string, unknown>;
  if (s.type === "object" || s.properties) {
    const keys = Object.keys((s.properties ?? {}) as object);
    const required = new Set((s.required ?? []) as string[]);
    if (s.additionalProperties !== false || !keys.every((k) => required.has(k))) return false;
  }
  return Object.entries(s).every(([k, v]) => k === "enum" || k === "const" || strictCompatible(v));
}

/** Tool results become one `tool` message each, whichever role carried them. */
function messages(req: ChatRequest): OpenAI.ChatCompletionMessageParam[] {
  const out: OpenAI.ChatCompletionMessageParam[] = [];
  if (req.system) out.push({ role: "system", content: req.system });
  for (const message of req.messages) out.push(...toOpenAI(message));
  return out;
}

function toOpenAI(message: LlmMessage): OpenAI.ChatCompletionMessageParam[] {
  const parts = partsOf(message.content);
  const text = parts.flatMap((p) => p.type === "text" ? [p.text] : []).join("");
  const results: OpenAI.ChatCompletionToolMessageParam[] = parts.flatMap((p) =>
    p.type === "tool_result"
      ? [{
        role: "tool" as const,
        tool_call_id: p.toolCallId,
        content: (p.isError ? "Error: " : "") + outputText(p.output),
      }]
      : []
  );
  if (message.role === "assistant") {
    const toolCalls = parts.flatMap((p) =>
      p.type === "tool_call"
        ? [{
          id: p.id,
          type: "function" as const,
          function: { name: p.name, arguments: JSON.stringify(p.input ?? {}) },
        }]
        : []
    );
    return [{
      role: "assistant",
      content: text || null,
      ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
    }];
  }
  const files = parts.filter((p) => p.type === "file");
  if (files.length) {
    const content = [...files.map(filePart), ...(text ? [{ type: "text" as const, text }] : [])];
    return [...results, { role: "user", content }];
  }
  return text ? [...results, { role: "user", content: text }] : results;
}

/** Images as image_url parts, PDFs as file parts (both data URLs), text files as text. */
function filePart(part: Extract<LlmPart, { type: "file" }>): OpenAI.ChatCompletionContentPart {
  const dataUrl = `data:${part.mediaType};base64,${part.data}`;
  if (part.mediaType.startsWith("image/")) {
    return { type: "image_url", image_url: { url: dataUrl } };
  }
  if (part.mediaType === "application/pdf") {
    return { type: "file", file: { filename: part.filename, file_data: dataUrl } };
  }
  return { type: "text", text: `${part.filename}:\n${fileText(part)}` };
}

function setUsage(usage: Usage, u: OpenAI.CompletionUsage): void {
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  usage.inputTokens = u.prompt_tokens - cached;
  usage.cachedReadTokens = cached;
  usage.outputTokens = u.completion_tokens;
  usage.reasoningTokens = u.completion_tokens_details?.reasoning_tokens ?? 0;
}

function finishReason(reason: string): FinishReason {
  switch (reason) {
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool-calls";
    case "content_filter":
      return "content-filter";
    default:
      return "stop";
  }
}
