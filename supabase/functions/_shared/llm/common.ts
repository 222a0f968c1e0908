// What the provider adapters share: their signature, usage arithmetic and tool-call payloads.
import { LlmError } from "./errors.ts";
import type { ChatRequest, LlmEvent, LlmPart, ModelSpec, Usage } from "./types.ts";

/**
 * One streamed request to one provider: normalized events ending with `finish`. The adapter
 * writes token counts into `usage` as soon as the provider reports them, so an attempt that
 * fails or is aborted midway can still be metered. It throws if the stream ends without a
 * finish (SDK errors are thrown as they are; streamChat maps them).
 */
export type Adapter = (
  spec: ModelSpec,
  req: ChatRequest,
  signal: AbortSignal,
  usage: Usage,
) => AsyncGenerator<LlmEvent>;

export function emptyUsage(): Usage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cachedReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  };
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedReadTokens: a.cachedReadTokens + b.cachedReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
  };
}

export function partsOf(content: string | LlmPart[]): LlmPart[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

/** Tool outputs travel as text to both providers. */
export function outputText(output: unknown): string {
  return typeof output === "string" ? output : JSON.stringify(output);
}

/** The streamed argument JSON of a tool call; an empty string means no arguments. */
export function parseToolInput(spec: ModelSpec, name: string, json: string): unknown {
  try {
    return json.trim() ? JSON.parse(json) : {};
  } catch {
    throw new LlmError(
      "invalid_output",
      `tool call ${name}: arguments are not valid JSON`,
      spec.provider,
      spec.alias,
    );
  }
}

export function streamEndedEarly(spec: ModelSpec): LlmError {
  return new LlmError(
    "network",
    "stream ended before the reply was complete",
    spec.provider,
    spec.alias,
  );
}

/** Which capability a file needs: images vision, PDFs pdf; text files are read as text by every model. */
export function fileCapability(mediaType: string): "vision" | "pdf" | null {
  if (mediaType.startsWith("image/")) return "vision";
  if (mediaType === "application/pdf") return "pdf";
  return null;
}

/** Whether the model reads a file of this media type (the one rule; see fileCapability). */
export function readsFile(spec: ModelSpec, mediaType: string): boolean {
  const needs = fileCapability(mediaType);
  return needs === null || spec.capabilities?.[needs] === true;
}

/** A text file's bytes as text (attachments of type text/* are UTF-8, checked when stored). */
export function fileText(part: Extract<LlmPart, { type: "file" }>): string {
  const bytes = Uint8Array.from(atob(part.data), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * About how many input tokens a file costs: an image at most about 1,600 (Anthropic's
 * width x height / 750 at the largest size it keeps; OpenAI's high detail is similar), a PDF
 * about 2,500 a page (text and page image) at roughly 50 KB a page, text 4 bytes a token.
 */
export function estimateFileTokens(mediaType: string, bytes: number): number {
  if (mediaType.startsWith("image/")) return 1_600;
  if (mediaType === "application/pdf") return Math.max(2_500, Math.ceil(bytes / 20));
  return Math.ceil(bytes / 4);
}
