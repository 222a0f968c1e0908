// The model registry (table `models`) and chat settings (table `app_settings`), as the LLM
// layer needs them.
import type { Sql, Tx } from "../db.ts";
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
export const modelColumns = (tx: Sql | Tx) =>
  tx`m.alias, m.provider, m.provider_model, m.display_name, m.purpose, m.context_window,
     m.max_output_tokens, m.capabilities, m.fallback, m.enabled, m.created_at, m.updated_at,
     (select e.base_url from private.model_endpoint(m.alias) e) as base_url,
     (select e.api_key_env from private.model_endpoint(m.alias) e) as api_key_env`;

/** Whether calls to this model can be made (the one rule: llm/endpoints.ts). */
export const modelConfigured = (row: ModelRow) => providerConfigured(toSpec(row));

/**
 * The model and its fallbacks, in the order to try them, from `rows` (enabled models, with at
 * least the alias and its fallbacks): only those whose provider is configured. An unknown or
 * disabled alias is the caller's error (422).
 */
function chainOf(rows: ModelRow[], alias: string, purpose: ModelRow["purpose"][]) {
  const first = rows.find((r) => r.alias === alias);
  if (!first || !purpose.includes(first.purpose)) {
    throw new ApiError(422, "unknown_model", `Unknown or disabled model "${alias}"`);
  }
  const ordered = [
    first,
    ...first.fallback.map((a) => rows.find((r) => r.alias === a)).filter((r) => r !== undefined),
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

export async function modelChain(tx: Tx, alias: string, purpose: ModelRow["purpose"][] = ["chat"]) {
  const rows = await tx<ModelRow[]>`
    select ${modelColumns(tx)} from public.models m
    where m.enabled and (m.alias = ${alias}
                         or m.alias = any(select unnest(f.fallback) from public.models f
                                          where f.alias = ${alias}))`;
  return chainOf(rows, alias, purpose);
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

/** Forgets what was remembered under `key`: the next read loads it again. */
const forget = (key: string) => remembered.delete(key);

export const rememberedChatSettings = (tx: Sql | Tx) =>
  remember("settings", () => chatSettings(tx));

export const rememberedModelChain = (
  tx: Tx,
  alias: string,
  purpose: ModelRow["purpose"][] = ["chat"],
) => remember(`chain:${alias}:${purpose}`, () => modelChain(tx, alias, purpose));

/** The models a chat send may use, as this instance can call them (enabled, provider configured). */
export interface ChatModels {
  chain(alias: string, purpose?: ModelRow["purpose"][]): ModelSpec[];
  /** Aliases usable as a chat model; and as the budget's cheaper stand-in (chat or utility). */
  chat: string[];
  downgrade: string[];
  /** The largest context window of the chat models: what bounds the history read. */
  largestContextWindow: number;
}

/**
 * The whole registry of enabled models, remembered like the settings; read by the functions'
 * own role before the send's statement (it takes no connection while another is held).
 * `fresh`: read it again now (a model the send needs may have been added since).
 */
export const rememberedChatModels = (
  db: Sql,
  opts: { fresh?: boolean } = {},
): Promise<ChatModels> => {
  if (opts.fresh) forget("chat-models");
  return remember("chat-models", async () => {
    const rows = await db<ModelRow[]>`select ${
      modelColumns(db)
    } from public.models m where m.enabled`;
    const chain = (alias: string, purpose: ModelRow["purpose"][] = ["chat"]) =>
      chainOf(rows, alias, purpose);
    const usable = (purpose: ModelRow["purpose"][]) =>
      rows.filter((r) => {
        try {
          return chain(r.alias, purpose).length > 0;
        } catch {
          return false;
        }
      }).map((r) => r.alias);
    const chat = usable(["chat"]);
    return {
      chain,
      chat,
      downgrade: usable(["chat", "utility"]),
      largestContextWindow: Math.max(
        0,
        ...rows.filter((r) => chat.includes(r.alias)).map((r) => r.context_window),
      ),
    };
  });
};

export interface ChatSettings {
  defaultModel: string;
  utilityModel: string;
  systemPrompt: string;
  maxToolSteps: number;
  contextBudgetRatio: number;
  /** Messages of the history the model gets at most (older turns are summarized). */
  historyMaxMessages: number;
  /** Bytes of earlier turns' attachments re-sent to the model (attachments.ts withFiles). */
  attachmentHistoryBytes: number;
}

export async function chatSettings(tx: Sql | Tx): Promise<ChatSettings> {
  const rows = await tx<{ key: string; value: unknown }[]>`
    select key, value from public.app_settings where key like 'chat.%'`;
  const get = (key: string) => rows.find((r) => r.key === key)?.value;
  return {
    defaultModel: String(get("chat.default_model") ?? "claude-sonnet-4.6"),
    utilityModel: String(get("chat.utility_model") ?? "gpt-5-mini"),
    systemPrompt: String(get("chat.system_prompt") ?? "You are a helpful assistant."),
    maxToolSteps: Number(get("chat.max_tool_steps") ?? 5),
    contextBudgetRatio: Number(get("chat.context_budget_ratio") ?? 0.6),
    historyMaxMessages: Number(get("chat.history_max_messages") ?? 100),
    attachmentHistoryBytes: Number(get("chat.attachments.history_bytes") ?? 10_485_760),
  };
}
