// The model registry (table `models`) and chat settings (table `app_settings`), as the LLM
// layer needs them.
import type { Tx } from "../db.ts";
import { ApiError } from "../http.ts";
import { providerConfigured } from "../llm/endpoints.ts";
import type { ModelSpec } from "../llm/types.ts";

export interface ModelRow {
  alias: string;
  provider: ModelSpec["provider"];
  provider_model: string;
  base_url: string | null;
  api_key_env: string | null;
  display_name: string;
  purpose: "chat" | "utility" | "embedding";
  context_window: number;
  max_output_tokens: number;
  capabilities: Record<string, unknown>;
  fallback: string[];
}

export function toSpec(row: ModelRow): ModelSpec {
  return {
    alias: row.alias,
    provider: row.provider,
    providerModel: row.provider_model,
    baseUrl: row.base_url ?? undefined,
    apiKeyEnv: row.api_key_env ?? undefined,
    contextWindow: row.context_window,
    maxOutputTokens: row.max_output_tokens,
    capabilities: {
      tools: row.capabilities.tools === true,
      reasoning: row.capabilities.reasoning === true,
      promptCaching: row.capabilities.prompt_caching === true,
      vision: row.capabilities.vision === true,
      pdf: row.capabilities.pdf === true,
    },
  };
}

/**
 * Every column of public.models, as `m`. Users may not read base_url and api_key_env (column
 * privileges: not through /rest/v1/models either); the functions read them through
 * private.model_endpoint, inside the caller's own transaction.
 */
export const modelColumns = (tx: Tx) =>
  tx`m.alias, m.provider, m.provider_model, m.display_name, m.purpose, m.context_window,
     m.max_output_tokens, m.capabilities, m.fallback, m.enabled, m.created_at, m.updated_at,
     (select e.base_url from private.model_endpoint(m.alias) e) as base_url,
     (select e.api_key_env from private.model_endpoint(m.alias) e) as api_key_env`;

/** Whether calls to this model can be made (the one rule: llm/endpoints.ts). */
export const modelConfigured = (row: ModelRow) => providerConfigured(toSpec(row));

/**
 * The model and its fallbacks, in the order to try them: enabled models only, and only those
 * whose provider is configured. Unknown or disabled aliases are the caller's error (422).
 */
export async function modelChain(tx: Tx, alias: string, purpose: ModelRow["purpose"][] = ["chat"]) {
  const [first] = await tx<
    ModelRow[]
  >`select ${modelColumns(tx)} from public.models m where m.alias = ${alias} and m.enabled`;
  if (!first || !purpose.includes(first.purpose)) {
    throw new ApiError(422, "unknown_model", `Unknown or disabled model "${alias}"`);
  }
  const rest = first.fallback.length
    ? await tx<
      ModelRow[]
    >`select ${modelColumns(tx)} from public.models m
      where m.alias = any(${first.fallback}) and m.enabled`
    : [];
  const ordered = [
    first,
    ...first.fallback.map((a) => rest.find((r) => r.alias === a)).filter((r) => r !== undefined),
  ];
  const usable = ordered.filter(modelConfigured);
  if (usable.length === 0) {
    throw new ApiError(
      503,
      "provider_not_configured",
      `No provider key is configured for "${alias}"`,
    );
  }
  return usable.map(toSpec);
}

// The registry and the settings change rarely and are read on every chat message, so each
// instance keeps what it read for a few seconds (a disabled model may answer for that long).
// Loads go through the caller's own transaction: no second connection while it holds one.
const REMEMBER_MS = 5_000;
const remembered = new Map<string, { until: number; value: Promise<unknown> }>();

function remember<T>(key: string, load: () => Promise<T>): Promise<T> {
  const hit = remembered.get(key);
  if (hit && hit.until > Date.now()) return hit.value as Promise<T>;
  const value = load();
  remembered.set(key, { until: Date.now() + REMEMBER_MS, value });
  value.catch(() => remembered.delete(key));
  return value;
}

export const rememberedChatSettings = (tx: Tx) => remember("settings", () => chatSettings(tx));

export const rememberedModelChain = (
  tx: Tx,
  alias: string,
  purpose: ModelRow["purpose"][] = ["chat"],
) => remember(`chain:${alias}:${purpose}`, () => modelChain(tx, alias, purpose));

export interface ChatSettings {
  defaultModel: string;
  utilityModel: string;
  systemPrompt: string;
  maxToolSteps: number;
  contextBudgetRatio: number;
  /** Bytes of earlier turns' attachments re-sent to the model (attachments.ts withFiles). */
  attachmentHistoryBytes: number;
}

export async function chatSettings(tx: Tx): Promise<ChatSettings> {
  const rows = await tx<{ key: string; value: unknown }[]>`
    select key, value from public.app_settings where key like 'chat.%'`;
  const get = (key: string) => rows.find((r) => r.key === key)?.value;
  return {
    defaultModel: String(get("chat.default_model") ?? "claude-sonnet-4.5"),
    utilityModel: String(get("chat.utility_model") ?? "gpt-5-mini"),
    systemPrompt: String(get("chat.system_prompt") ?? "You are a helpful assistant."),
    maxToolSteps: Number(get("chat.max_tool_steps") ?? 5),
    contextBudgetRatio: Number(get("chat.context_budget_ratio") ?? 0.6),
    attachmentHistoryBytes: Number(get("chat.attachments.history_bytes") ?? 10_485_760),
  };
}
