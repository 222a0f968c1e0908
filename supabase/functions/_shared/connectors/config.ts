// Where each platform is and with which credentials: the one place that says whether a connector
// is configured. Real platforms by default; the local stack points the *_URL variables at its
// fakes (local/fakes/platforms.ts). Never log what this returns.
import { ApiError } from "../http.ts";
import type { Provider } from "./types.ts";

const env = (name: string) => Deno.env.get(name) || undefined;

export interface SlackConfig {
  clientId: string;
  clientSecret: string;
  signingSecret: string;
  apiUrl: string;
  authorizeUrl: string;
}
export interface MicrosoftConfig {
  clientId: string;
  clientSecret: string;
  tenant: string;
  loginUrl: string;
  graphUrl: string;
}
export interface TelegramConfig {
  botToken: string;
  webhookSecret: string;
  apiUrl: string;
  botUsername?: string;
}

export function slackConfig(): SlackConfig | null {
  const [clientId, clientSecret, signingSecret] = [
    env("SLACK_CLIENT_ID"),
    env("SLACK_CLIENT_SECRET"),
    env("SLACK_SIGNING_SECRET"),
  ];
  if (!clientId || !clientSecret || !signingSecret) return null;
  return {
    clientId,
    clientSecret,
    signingSecret,
    apiUrl: env("SLACK_API_URL") ?? "https://slack.com/api",
    authorizeUrl: env("SLACK_AUTHORIZE_URL") ?? "https://slack.com/oauth/v2/authorize",
  };
}

export function microsoftConfig(): MicrosoftConfig | null {
  const [clientId, clientSecret] = [env("MS_CLIENT_ID"), env("MS_CLIENT_SECRET")];
  if (!clientId || !clientSecret) return null;
  return {
    clientId,
    clientSecret,
    tenant: env("MS_TENANT") ?? "common",
    loginUrl: env("MS_LOGIN_URL") ?? "https://login.microsoftonline.com",
    graphUrl: env("MS_GRAPH_URL") ?? "https://graph.microsoft.com/v1.0",
  };
}

export function telegramConfig(): TelegramConfig | null {
  const [botToken, webhookSecret] = [env("TELEGRAM_BOT_TOKEN"), env("TELEGRAM_WEBHOOK_SECRET")];
  if (!botToken || !webhookSecret) return null;
  return {
    botToken,
    webhookSecret,
    apiUrl: env("TELEGRAM_API_URL") ?? "https://api.telegram.org",
    botUsername: env("TELEGRAM_BOT_USERNAME"),
  };
}

const CONFIGS = { slack: slackConfig, outlook: microsoftConfig, telegram: telegramConfig };

/** The platform's configuration, or a 503 naming what is missing. */
export function requireConfig<P extends Provider>(
  provider: P,
): NonNullable<ReturnType<(typeof CONFIGS)[P]>> {
  const config = CONFIGS[provider]();
  if (!config) {
    const names = {
      slack: "SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_SIGNING_SECRET",
      outlook: "MS_CLIENT_ID, MS_CLIENT_SECRET",
      telegram: "TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET",
    };
    throw new ApiError(
      503,
      "connector_not_configured",
      `The ${provider} connector is not configured (set ${names[provider]})`,
    );
  }
  return config as NonNullable<ReturnType<(typeof CONFIGS)[P]>>;
}

export const configuredProviders = (): Provider[] =>
  (Object.keys(CONFIGS) as Provider[]).filter((p) => CONFIGS[p]() !== null);

/** The public URL of the connectors function: OAuth redirects and webhook addresses. */
export function connectorsUrl(): string {
  const base = env("AIDE_PUBLIC_FUNCTIONS_URL") ?? `${env("SUPABASE_URL")}/functions/v1`;
  return `${base.replace(/\/$/, "")}/connectors`;
}
