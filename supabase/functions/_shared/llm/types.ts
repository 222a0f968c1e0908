// The LLM layer's contract: one normalized, provider-neutral shape for requests, streamed
// events and usage, whatever SDK (openai, @anthropic-ai/sdk, any OpenAI-compatible server) is
// behind it. Callers (chat, titles, summaries, planners) depend on this file only.

export type Provider = "anthropic" | "openai" | "openai_compatible";

/** A model as the registry describes it (see the `models` table). */
export interface ModelSpec {
  /** Our alias, e.g. "claude-sonnet-4.6". */
  alias: string;
  provider: Provider;
  /** The provider's id, e.g. "claude-sonnet-4-6". */
  providerModel: string;
  /** For openai_compatible (and to override a provider's URL). */
  baseUrl?: string;
  /** Name of the env var holding the API key; defaults per provider. */
  apiKeyEnv?: string;
  contextWindow: number;
  maxOutputTokens: number;
  capabilities?: {
    tools?: boolean;
    reasoning?: boolean;
    promptCaching?: boolean;
    /** Reads images (png, jpeg, webp, gif). */
    vision?: boolean;
    /** Reads PDFs (their text and pages). */
    pdf?: boolean;
  };
}

export type LlmPart =
  | { type: "text"; text: string }
  | { type: "tool_call"; id: string; name: string; input: unknown }
  | { type: "tool_result"; toolCallId: string; output: unknown; isError?: boolean }
  /** A file in a user turn: an image, a PDF or a text file, its bytes base64-encoded. */
  | { type: "file"; mediaType: string; filename: string; data: string };

export interface LlmMessage {
  role: "user" | "assistant" | "tool";
  /** A plain string is one text part. */
  content: string | LlmPart[];
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the input object. */
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  system?: string;
  messages: LlmMessage[];
  tools?: ToolSpec[];
  maxOutputTokens?: number;
  temperature?: number;
  /** Anthropic extended thinking budget / OpenAI reasoning effort. */
  reasoning?: { effort?: "low" | "medium" | "high"; budgetTokens?: number };
  /** Anthropic prompt caching of the system prompt and tools. */
  cacheSystemPrompt?: boolean;
  signal?: AbortSignal;
  /** Per attempt: from sending the request to the end of the stream. */
  timeoutMs?: number;
  /**
   * Native structured output: OpenAI `response_format: json_schema`, Anthropic a forced call of
   * a tool named `name` whose input schema is `schema` (the object arrives as that tool call).
   */
  responseFormat?: ResponseFormat;
}

export interface ResponseFormat {
  /** `^[a-zA-Z0-9_-]{1,64}$`, as both providers require. */
  name: string;
  description?: string;
  /** JSON Schema of the object (its root must be an object). */
  schema: Record<string, unknown>;
}

export interface Usage {
  inputTokens: number; // excluding cached reads and cache writes
  outputTokens: number; // including reasoning tokens
  cachedReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

/**
 * Why a model stopped, in the AI SDK's words (the same values reach clients in the stream's
 * `finish` chunk and are stored in messages.finish_reason). "other": stopped by us.
 */
export const FINISH_REASONS = [
  "stop",
  "length",
  "tool-calls",
  "content-filter",
  "error",
  "other",
] as const;
export type FinishReason = typeof FINISH_REASONS[number];

export type LlmEvent =
  | { type: "text"; delta: string }
  | { type: "reasoning"; delta: string }
  | { type: "tool_call_start"; id: string; name: string }
  | { type: "tool_call_delta"; id: string; delta: string }
  | { type: "tool_call"; id: string; name: string; input: unknown }
  | { type: "finish"; reason: FinishReason; usage: Usage };

/** Error classes callers can branch on; `retryable` is true for 408/409/429/5xx/529 and network faults. */
export type LlmErrorKind =
  | "rate_limited"
  | "overloaded"
  | "server_error"
  | "timeout"
  | "network"
  | "aborted"
  | "invalid_request"
  | "authentication"
  | "not_configured"
  | "invalid_output";
