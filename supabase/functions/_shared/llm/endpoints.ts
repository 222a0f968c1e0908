// Where a model's calls go and with which key: the one rule that decides whether a provider is
// configured, used by the SDK clients (clients.ts), GET /models and health.
//
// - A model's key is the env var its registry row names (api_key_env), or its provider's default
//   key (OPENAI_API_KEY, ANTHROPIC_API_KEY). openai_compatible models have no defaults: they
//   need their own base_url and api_key_env.
// - Its URL is the row's base_url, or the provider's <PREFIX>_BASE_URL, or the SDK's default.
// - A default key is only ever sent to its provider's own host, to the host of <PREFIX>_BASE_URL
//   (set by whoever deploys, e.g. a proxy or the local fakes), or to hosts listed in
//   <KEY>_HOSTS (comma-separated, e.g. OPENAI_API_KEY_HOSTS=my-proxy.example.com). A row with
//   any other base_url needs its own api_key_env: otherwise an admin, or a typo, could send the
//   project's key and every user's conversation to a host of their choice.
import type { ModelSpec } from "./types.ts";

export type Endpoint = Pick<ModelSpec, "alias" | "provider" | "baseUrl" | "apiKeyEnv">;

export type ResolvedEndpoint =
  | { ok: true; apiKey: string; baseUrl?: string }
  | { ok: false; reason: string };

const DEFAULT_KEYS = {
  OPENAI_API_KEY: { urlEnv: "OPENAI_BASE_URL", host: "api.openai.com" },
  ANTHROPIC_API_KEY: { urlEnv: "ANTHROPIC_BASE_URL", host: "api.anthropic.com" },
} as const;
type DefaultKey = keyof typeof DEFAULT_KEYS;

const isDefaultKey = (env: string): env is DefaultKey => env in DEFAULT_KEYS;

/** The hosts a default key may be sent to. */
function hostsFor(keyEnv: DefaultKey): string[] {
  const { urlEnv, host } = DEFAULT_KEYS[keyEnv];
  const hosts: string[] = [host];
  const configured = Deno.env.get(urlEnv);
  if (configured) hosts.push(hostOf(configured) ?? "");
  for (const h of (Deno.env.get(`${keyEnv}_HOSTS`) ?? "").split(",")) {
    if (h.trim()) hosts.push(h.trim().toLowerCase());
  }
  return hosts.filter(Boolean);
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}

export function resolveEndpoint(spec: Endpoint): ResolvedEndpoint {
  const compatible = spec.provider === "openai_compatible";
  const defaultKey: DefaultKey = spec.provider === "anthropic"
    ? "ANTHROPIC_API_KEY"
    : "OPENAI_API_KEY";
  const keyEnv = spec.apiKeyEnv ?? (compatible ? undefined : defaultKey);
  if (!keyEnv) return { ok: false, reason: "no api_key_env in the model registry" };
  const apiKey = Deno.env.get(keyEnv);
  if (!apiKey) return { ok: false, reason: `no API key (set ${keyEnv})` };
  const baseUrl = spec.baseUrl ??
    (compatible ? undefined : Deno.env.get(DEFAULT_KEYS[defaultKey].urlEnv) || undefined);
  if (compatible && !baseUrl) return { ok: false, reason: "no base_url in the model registry" };
  if (baseUrl && isDefaultKey(keyEnv)) {
    const host = hostOf(baseUrl);
    if (!host || !hostsFor(keyEnv).includes(host)) {
      return {
        ok: false,
        reason: `${keyEnv} is not sent to ${host ?? "that base_url"}: give the model its own ` +
          `api_key_env, or list the host in ${keyEnv}_HOSTS`,
      };
    }
  }
  return { ok: true, apiKey, baseUrl };
}

/** Whether calls to this model can be made: a key, and a URL that key may go to. */
export const providerConfigured = (spec: Endpoint) => resolveEndpoint(spec).ok;
