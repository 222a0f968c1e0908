// Anthropic Messages API adapter: streams `messages.create({stream: true})` and maps its raw
// events (message_start, content_block_*, message_delta, message_stop) to LlmEvents.
import type Anthropic from "@anthropic-ai/sdk";
import { anthropicClient } from "./clients.ts";
import {
  type Adapter,
  fileText,
  outputText,
  parseToolInput,
  partsOf,
  streamEndedEarly,
} from "./common.ts";
import type { ChatRequest, FinishReason, LlmMessage, LlmPart, ModelSpec, Usage } from "./types.ts";

export const streamAnthropic: Adapter = async function* (spec, req, signal, usage) {
  const stream = await anthropicClient(spec).messages.create(params(spec, req), { signal });
  // Tool-use blocks by content index, with their input JSON so far.
  const toolCalls = new Map<number, { id: string; name: string; json: string }>();
  let stopReason: Anthropic.StopReason | null = null;
  let stopped = false;

  for await (const event of stream) {
    switch (event.type) {
      case "message_start":
        updateUsage(usage, event.message.usage);
        break;
      case "content_block_start":
        if (event.content_block.type === "tool_use") {
          const { id, name } = event.content_block;
          toolCalls.set(event.index, { id, name, json: "" });
          yield { type: "tool_call_start", id, name };
        }
        break;
      case "content_block_delta": {
        const delta = event.delta;
        const call = toolCalls.get(event.index);
        if (delta.type === "text_delta") yield { type: "text", delta: delta.text };
        else if (delta.type === "thinking_delta") {
          yield { type: "reasoning", delta: delta.thinking };
        } else if (delta.type === "input_json_delta" && call) {
          call.json += delta.partial_json;
          yield { type: "tool_call_delta", id: call.id, delta: delta.partial_json };
        }
        break;
      }
      case "content_block_stop": {
        const call = toolCalls.get(event.index);
        if (call) {
          const input = parseToolInput(spec, call.name, call.json);
          yield { type: "tool_call", id: call.id, name: call.name, input };
        }
        break;
      }
      case "message_delta":
        stopReason = event.delta.stop_reason;
        updateUsage(usage, event.usage);
        break;
      case "message_stop":
        stopped = true;
        break;
    }
  }
  if (!stopped) throw streamEndedEarly(spec);
  yield { type: "finish", reason: finishReason(stopReason), usage: { ...usage } };
};

function params(spec: ModelSpec, req: ChatRequest): Anthropic.MessageCreateParamsStreaming {
  const cache = req.cacheSystemPrompt ? { cache_control: { type: "ephemeral" as const } } : {};
  // Structured output is a forced call of one more tool whose input is the object.
  const format = req.responseFormat;
  const declared = [
    ...(req.tools ?? []),
    ...(format
      ? [{
        name: format.name,
        description: format.description ?? "Give the answer as this tool's input.",
        parameters: format.schema,
      }]
      : []),
  ];
  const tools: Anthropic.Tool[] | undefined = declared.map((tool, i, all) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.parameters as Anthropic.Tool.InputSchema,
    // One breakpoint on the last tool caches the whole tool list.
    ...(i === all.length - 1 ? cache : {}),
  }));
  const budget = spec.capabilities?.reasoning ? req.reasoning?.budgetTokens : undefined;
  return {
    model: spec.providerModel,
    max_tokens: req.maxOutputTokens ?? spec.maxOutputTokens,
    messages: messages(req.messages),
    stream: true,
    ...(req.system ? { system: [{ type: "text" as const, text: req.system, ...cache }] } : {}),
    ...(tools?.length ? { tools } : {}),
    ...(format ? { tool_choice: { type: "tool" as const, name: format.name } } : {}),
    // Extended thinking only accepts the default temperature (and no forced tool).
    ...(budget && !format
      ? { thinking: { type: "enabled" as const, budget_tokens: budget } }
      : req.temperature !== undefined
      ? { temperature: req.temperature }
      : {}),
  };
}

/** Tool results go back to Claude as `tool_result` blocks in a user turn. */
function messages(history: LlmMessage[]): Anthropic.MessageParam[] {
  return history.flatMap((message) => {
    const content = partsOf(message.content).flatMap(block);
    if (content.length === 0) return []; // the API rejects empty turns
    return [{ role: message.role === "assistant" ? "assistant" : "user", content }];
  });
}

function block(part: LlmPart): Anthropic.ContentBlockParam[] {
  switch (part.type) {
    case "text": // the API rejects empty text blocks
      return part.text ? [{ type: "text", text: part.text }] : [];
    case "tool_call":
      return [{ type: "tool_use", id: part.id, name: part.name, input: part.input ?? {} }];
    case "tool_result":
      return [{
        type: "tool_result",
        tool_use_id: part.toolCallId,
        content: outputText(part.output),
        ...(part.isError ? { is_error: true } : {}),
      }];
    case "file":
      return [fileBlock(part)];
  }
}

/** Images as image blocks, PDFs and text files as document blocks (base64 and text sources). */
function fileBlock(part: Extract<LlmPart, { type: "file" }>): Anthropic.ContentBlockParam {
  if (part.mediaType.startsWith("image/")) {
    return {
      type: "image",
      source: {
        type: "base64",
        media_type: part.mediaType as Anthropic.Base64ImageSource["media_type"],
        data: part.data,
      },
    };
  }
  if (part.mediaType === "application/pdf") {
    return {
      type: "document",
      title: part.filename,
      source: { type: "base64", media_type: "application/pdf", data: part.data },
    };
  }
  return {
    type: "document",
    title: part.filename,
    source: { type: "text", media_type: "text/plain", data: fileText(part) },
  };
}

/** message_start carries the input side; message_delta the cumulative totals. */
function updateUsage(usage: Usage, u: Anthropic.Usage | Anthropic.MessageDeltaUsage): void {
  usage.inputTokens = u.input_tokens ?? usage.inputTokens;
  usage.cachedReadTokens = u.cache_read_input_tokens ?? usage.cachedReadTokens;
  usage.cacheWriteTokens = u.cache_creation_input_tokens ?? usage.cacheWriteTokens;
  usage.outputTokens = u.output_tokens;
  usage.reasoningTokens = u.output_tokens_details?.thinking_tokens ?? usage.reasoningTokens;
}

function finishReason(reason: Anthropic.StopReason | null): FinishReason {
  switch (reason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool-calls";
    case "refusal":
      return "content-filter";
    default: // end_turn, stop_sequence, pause_turn
      return "stop";
  }
}
