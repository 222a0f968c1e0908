/**
 * Starts the fake Slack, Microsoft and Telegram servers (local/fakes/slack.ts, microsoft.ts,
 * telegram.ts), in-process (`startPlatformFakes`) or as a script started by the stack:
 *
 *   deno run -A local/fakes/platforms.ts --slack-port 54333 --microsoft-port 54334 --telegram-port 54335
 *
 * with the credentials the fakes accept in the environment (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET,
 * SLACK_SIGNING_SECRET, MS_CLIENT_ID, MS_CLIENT_SECRET, TELEGRAM_BOT_TOKEN): the same values
 * the functions get. Logs one JSON line per request on stderr, never parameters or headers.
 */
import { parseArgs } from "node:util";
import { createMicrosoftHandler } from "./microsoft.ts";
import { createSlackHandler } from "./slack.ts";
import { createTelegramHandler } from "./telegram.ts";

export interface PlatformSecrets {
  SLACK_CLIENT_ID: string;
  SLACK_CLIENT_SECRET: string;
  SLACK_SIGNING_SECRET: string;
  MS_CLIENT_ID: string;
  MS_CLIENT_SECRET: string;
  TELEGRAM_BOT_TOKEN: string;
  TELEGRAM_WEBHOOK_SECRET: string;
  AIDE_TOKEN_KEYS: string;
  AIDE_TOKEN_KEY_ID: string;
}

const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0"))
    .join("");

const newKey = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

/**
 * Fresh credentials for the fakes and a token encryption key, as a stack generates them. With
 * `retiredKey` (the throwaway test stacks) the key ring also holds an older key, k0, so tests can
 * write rows under it and watch the rotation job move them to k1.
 */
export function generatePlatformSecrets(retiredKey = false): PlatformSecrets {
  return {
    SLACK_CLIENT_ID: `${Date.now()}.${hex(6)}`,
    SLACK_CLIENT_SECRET: hex(16),
    SLACK_SIGNING_SECRET: hex(16),
    MS_CLIENT_ID: crypto.randomUUID(),
    MS_CLIENT_SECRET: `fake~${hex(16)}`,
    TELEGRAM_BOT_TOKEN: `7000001:${hex(17)}`,
    TELEGRAM_WEBHOOK_SECRET: hex(24),
    AIDE_TOKEN_KEYS: JSON.stringify(retiredKey ? { k0: newKey(), k1: newKey() } : { k1: newKey() }),
    AIDE_TOKEN_KEY_ID: "k1",
  };
}

/** Where the functions find each fake (the env the connectors read; see _shared/connectors/config.ts). */
export function platformUrls(ports: { slack: number; microsoft: number; telegram: number }) {
  return {
    SLACK_API_URL: `http://127.0.0.1:${ports.slack}/api`,
    SLACK_AUTHORIZE_URL: `http://127.0.0.1:${ports.slack}/oauth/v2/authorize`,
    MS_LOGIN_URL: `http://127.0.0.1:${ports.microsoft}`,
    MS_GRAPH_URL: `http://127.0.0.1:${ports.microsoft}/v1.0`,
    TELEGRAM_API_URL: `http://127.0.0.1:${ports.telegram}`,
  };
}

export async function startPlatformFakes(
  secrets: PlatformSecrets,
  ports: { slack?: number; microsoft?: number; telegram?: number } = {},
  log = false,
) {
  const servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  const serve = (name: string, port: number, handler: (req: Request) => Promise<Response>) => {
    const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
      const started = performance.now();
      const res = await handler(req).catch((e) => {
        console.error(JSON.stringify({ level: "error", server: name, msg: String(e) }));
        return new Response("fake error", { status: 500 });
      });
      if (log) {
        console.error(JSON.stringify({
          at: new Date().toISOString(),
          server: name,
          method: req.method,
          path: new URL(req.url).pathname.replace(/\/bot[^/]+\//, "/bot<token>/"),
          status: res.status,
          ms: Math.round(performance.now() - started),
        }));
      }
      return res;
    });
    servers.push(server);
    return server.addr.port;
  };
  try {
    const slack = serve(
      "slack",
      ports.slack ?? 0,
      createSlackHandler({
        clientId: secrets.SLACK_CLIENT_ID,
        clientSecret: secrets.SLACK_CLIENT_SECRET,
        signingSecret: secrets.SLACK_SIGNING_SECRET,
      }),
    );
    const microsoft = serve(
      "microsoft",
      ports.microsoft ?? 0,
      createMicrosoftHandler({
        clientId: secrets.MS_CLIENT_ID,
        clientSecret: secrets.MS_CLIENT_SECRET,
      }),
    );
    const telegram = serve(
      "telegram",
      ports.telegram ?? 0,
      createTelegramHandler({
        botToken: secrets.TELEGRAM_BOT_TOKEN,
      }),
    );
    return {
      ports: { slack, microsoft, telegram },
      close: () => Promise.all(servers.map((s) => s.shutdown())),
    };
  } catch (e) {
    await Promise.all(servers.map((s) => s.shutdown()));
    throw e;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "slack-port": { type: "string" },
      "microsoft-port": { type: "string" },
      "telegram-port": { type: "string" },
    },
  });
  const env = (name: keyof PlatformSecrets) => Deno.env.get(name) ?? "";
  const secrets = Object.fromEntries(
    Object.keys(generatePlatformSecrets()).map((k) => [k, env(k as keyof PlatformSecrets)]),
  ) as unknown as PlatformSecrets;
  const fakes = await startPlatformFakes(secrets, {
    slack: Number(values["slack-port"] ?? 0),
    microsoft: Number(values["microsoft-port"] ?? 0),
    telegram: Number(values["telegram-port"] ?? 0),
  }, true);
  console.log(JSON.stringify(fakes.ports));
  const stop = async () => {
    await fakes.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

const PLATFORM_CREDENTIALS = {
  slack: ["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET"],
  microsoft: ["MS_CLIENT_ID", "MS_CLIENT_SECRET"],
  telegram: ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"],
} as const;

/**
 * The connectors' environment for a stack. The dev stack uses a platform's real credentials
 * when all of them are set (environment or supabase/functions/.env); otherwise, and always on the
 * test and bench stacks, the fakes with credentials generated once per stack folder
 * (`platform_secrets.json`, mode 600; the token key must outlive restarts, or stored tokens
 * would no longer decrypt). Answers the env for the functions and stack.env, the env the fakes
 * need, and which platforms are faked.
 */
export function platformSetup(opts: {
  dev: boolean;
  dir: string;
  ports: { slack: number; microsoft: number; telegram: number };
  configured: Record<string, string>;
}) {
  const file = `${opts.dir}/platform_secrets.json`;
  let generated: PlatformSecrets;
  try {
    generated = JSON.parse(Deno.readTextFileSync(file));
  } catch {
    generated = generatePlatformSecrets(!opts.dev);
    Deno.writeTextFileSync(file, JSON.stringify(generated), { mode: 0o600 });
  }
  const given = (name: string) =>
    opts.dev ? (Deno.env.get(name) || opts.configured[name]) : undefined;
  const urls = platformUrls(opts.ports);
  const env: Record<string, string> = {
    AIDE_TOKEN_KEYS: given("AIDE_TOKEN_KEYS") ?? generated.AIDE_TOKEN_KEYS,
    AIDE_TOKEN_KEY_ID: given("AIDE_TOKEN_KEY_ID") ?? generated.AIDE_TOKEN_KEY_ID,
  };
  const fake: string[] = [];
  for (const [platform, names] of Object.entries(PLATFORM_CREDENTIALS)) {
    const real = names.every((n) => given(n));
    for (const n of names) env[n] = real ? given(n)! : generated[n as keyof PlatformSecrets];
    if (real) continue;
    fake.push(platform);
    const prefix = { slack: "SLACK_", microsoft: "MS_", telegram: "TELEGRAM_" }[platform]!;
    for (const [k, v] of Object.entries(urls)) if (k.startsWith(prefix)) env[k] = v;
  }
  env.AIDE_FAKE_PLATFORMS = fake.join(",");
  return { env, fake, fakeEnv: generated as unknown as Record<string, string> };
}
