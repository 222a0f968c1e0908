// SDK clients, built once per (provider, URL, key): an edge function instance serves many
// requests, and the SDK constructors are not free. Which URL and key: endpoints.ts.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { LlmError } from "./errors.ts";
import { type Endpoint, resolveEndpoint } from "./endpoints.ts";
import { providerFetch } from "./fetch.ts";

const clients = new Map<string, OpenAI | Anthropic>();

export function anthropicClient(spec: Endpoint): Anthropic {
  const { apiKey, baseUrl } = resolve(spec);
  const key = `anthropic|${baseUrl}|${apiKey}`;
  let client = clients.get(key);
  // maxRetries 0: streamChat owns retries (and must not retry after the first token).
  if (!client) {
    clients.set(
      key,
      client = new Anthropic({ apiKey, baseURL: baseUrl, maxRetries: 0, fetch: providerFetch }),
    );
  }
  return client as Anthropic;
}

/** For `openai` and `openai_compatible` chat models, and for embeddings. */
export function openaiClient(spec: Endpoint): OpenAI {
  const { apiKey, baseUrl } = resolve(spec);
  const key = `openai|${baseUrl}|${apiKey}`;
  let client = clients.get(key);
  if (!client) {
    clients.set(
      key,
      client = new OpenAI({ apiKey, baseURL: baseUrl, maxRetries: 0, fetch: providerFetch }),
    );
  }
  return client as OpenAI;
}

function resolve(spec: Endpoint) {
  const endpoint = resolveEndpoint(spec);
  if (!endpoint.ok) {
    throw new LlmError("not_configured", endpoint.reason, spec.provider, spec.alias);
  }
  return endpoint;
}
