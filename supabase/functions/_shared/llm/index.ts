// The LLM layer's public API. Types of the contract live in types.ts.
export type * from "./types.ts";
export { LlmError } from "./errors.ts";
export { providerConfigured, resolveEndpoint } from "./endpoints.ts";
export {
  type AttemptRecord,
  type AttemptStart,
  ChatStream,
  DEFAULT_RETRY,
  type RetryPolicy,
  streamChat,
  type StreamOptions,
} from "./stream.ts";
export { generateObject, generateText, type ObjectResult, type TextResult } from "./generate.ts";
export { embed, type EmbedCall, type EmbedOptions, type EmbedResult } from "./embed.ts";
