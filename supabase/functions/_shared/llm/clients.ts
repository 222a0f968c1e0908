// SDK clients, configured from the environment and built once per (provider, URL, key): an edge
// function instance serves many requests, and the SDK constructors are not free.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { LlmError } from "./errors.ts";
import type { ModelSpec } from "./types.ts";

type Endpoint = Pick<ModelSpec, "alias" | "provider" | "baseUrl" | "apiKeyEnv">;

const clients = new Map<string, OpenAI | Anthropic>();

export function anthropicClient(spec: Endpoint): Anthropic {
  const { apiKey, baseUrl } = resolve(spec, "ANTHROPIC");
  const key = `anthropic|${baseUrl}|${apiKey}`;
  let client = clients.get(key);
  // maxRetries 0: streamChat owns retries (and must not retry after the first token).
  if (!client) {
    clients.set(key, client = new Anthropic({ apiKey, baseURL: baseUrl, maxRetries: 0 }));
  }
  return client as Anthropic;
}

/** For `openai` and `openai_compatible` chat models, and for embeddings. */
export function openaiClient(spec: Endpoint): OpenAI {
  const { apiKey, baseUrl } = resolve(spec, "OPENAI");
  const key = `openai|${baseUrl}|${apiKey}`;
  let client = clients.get(key);
  if (!client) clients.set(key, client = new OpenAI({ apiKey, baseURL: baseUrl, maxRetries: 0 }));
  return client as OpenAI;
}

/**
 * Key from `spec.apiKeyEnv` or `<PREFIX>_API_KEY`, URL from `spec.baseUrl` or `<PREFIX>_BASE_URL`
 * (unset: the SDK's default). `openai_compatible` has no defaults: it needs its own URL and key
 * variable, so the OpenAI key is never sent to a third-party server.
 */
function resolve(spec: Endpoint, prefix: "OPENAI" | "ANTHROPIC") {
  const compatible = spec.provider === "openai_compatible";
  const keyEnv = spec.apiKeyEnv ?? (compatible ? undefined : `${prefix}_API_KEY`);
  const apiKey = keyEnv ? Deno.env.get(keyEnv) : undefined;
  const baseUrl = spec.baseUrl ?? (compatible ? undefined : Deno.env.get(`${prefix}_BASE_URL`));
  const missing = !apiKey
    ? `no API key (set ${keyEnv ?? "apiKeyEnv in the model registry"})`
    : compatible && !baseUrl
    ? "no baseUrl in the model registry"
    : null;
  if (missing) throw new LlmError("not_configured", missing, spec.provider, spec.alias);
  return { apiKey: apiKey!, baseUrl: baseUrl || undefined };
}
