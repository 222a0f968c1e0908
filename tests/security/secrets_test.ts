// Secrets: nothing the stack logged may hold a credential. `npm test` runs this file last, after
// every other test (tests/run.ts), so it reads what the whole suite made the stack log: the log
// files of the stack under test (AIDE_STACK) and the columns where the database keeps errors and
// job output. It looks for JWTs (user tokens, the anon and service-role keys), the provider keys
// the functions hold, anything shaped like an OpenAI or Anthropic key, the Vault secrets that
// authenticate webhooks, and the stack's private signing key.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { cfg, connect, env } from "../_support/stack.ts";
import type { SigningKeys } from "../../local/jwt.ts";

interface Secret {
  name: string;
  /** An exact value, or a pattern. */
  find: string | RegExp;
}

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
const PROVIDER_KEY = /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}/;

async function secrets(): Promise<Secret[]> {
  const list: Secret[] = [
    { name: "a JWT", find: JWT },
    { name: "an OpenAI/Anthropic-style key (sk-...)", find: PROVIDER_KEY },
    { name: "SUPABASE_ANON_KEY", find: env.SUPABASE_ANON_KEY },
    { name: "SUPABASE_SERVICE_ROLE_KEY", find: env.SUPABASE_SERVICE_ROLE_KEY },
    // The functions' provider keys on the test stacks (local/stack.ts).
    { name: "OPENAI_API_KEY", find: "fake-openai-key" },
    { name: "ANTHROPIC_API_KEY", find: "fake-anthropic-key" },
  ];
  // The connectors' credentials (stack.env) and every token key, and tokens shaped like the ones
  // Slack and Microsoft issue (the fakes issue the same shapes).
  for (
    const name of [
      "SLACK_CLIENT_SECRET",
      "SLACK_SIGNING_SECRET",
      "MS_CLIENT_SECRET",
      "TELEGRAM_BOT_TOKEN",
      "TELEGRAM_WEBHOOK_SECRET",
    ]
  ) {
    assert.ok(env[name], `${name} is not in stack.env`);
    list.push({ name, find: env[name] });
  }
  for (
    const [id, key] of Object.entries(JSON.parse(env.AIDE_TOKEN_KEYS) as Record<string, string>)
  ) {
    list.push({ name: `token key ${id}`, find: key });
  }
  list.push(
    { name: "a Slack token (xox...)", find: /\bxox[abpe]-[A-Za-z0-9-]{10,}/ },
    { name: "a Microsoft refresh token or code", find: /\bM\.(?:R3|C5)_[A-Za-z0-9]{10,}/ },
    { name: "a Microsoft access token (fake's shape)", find: /eyJ0eXAiOiJKV1QifQ\.[0-9a-f]{16,}/ },
  );
  // Real keys, where the developer has set some (supabase/functions/.env or the environment).
  for (const name of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]) {
    const value = Deno.env.get(name);
    if (value && value.length >= 8) list.push({ name, find: value });
  }
  const keys: SigningKeys = JSON.parse(Deno.readTextFileSync(join(cfg.dir, "keys.json")));
  assert.ok(keys.privateJwk.d, "the stack's private signing key is not in keys.json");
  list.push({ name: "the stack's private JWT signing key", find: keys.privateJwk.d });

  const sql = connect();
  try {
    const vault = await sql<{ name: string; secret: string }[]>`
      select name, decrypted_secret as secret from vault.decrypted_secrets
      where name !~ '_url$' and length(decrypted_secret) >= 8`;
    assert.ok(
      vault.some((v) => v.name === "aide_webhook_secret"),
      "no aide_webhook_secret in Vault",
    );
    for (const v of vault) list.push({ name: `Vault secret ${v.name}`, find: v.secret });
  } finally {
    await sql.end();
  }
  return list;
}

/** Everything under the stack's folder that is a log: logs/ and any *.log (not the data). */
function logFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (path: string, inLogs: boolean) => {
    for (const entry of Deno.readDirSync(path)) {
      const full = join(path, entry.name);
      if (entry.isDirectory) {
        // Postgres's data files and the Storage stand-in's uploads are data, not logs; the
        // server's own log directory (logging_collector) is a log.
        if (entry.name === "storage") continue;
        if (path === join(dir, "pgdata") && !["log", "pg_log"].includes(entry.name)) continue;
        walk(
          full,
          inLogs || entry.name === "logs" || entry.name === "log" || entry.name === "pg_log",
        );
      } else if (entry.isFile && (inLogs || entry.name.endsWith(".log"))) {
        files.push(full);
      }
    }
  };
  walk(dir, false);
  return files;
}

/** Columns where the database records errors and job output: logs kept in Postgres. */
const LOGGED_COLUMNS: [string, string][] = [
  ["public.usage_ledger", "error_message"],
  ["public.messages", "error_details"],
  ["public.ingestion_jobs", "last_error"],
  ["public.documents", "error"],
  ["public.job_runs", "error"],
  ["public.linked_accounts", "last_error"],
  ["public.index_jobs", "last_error"],
  ["private.slack_backfills", "last_error"],
  ["cron.job_run_details", "return_message"],
  ["net._http_response", "content"],
  ["net._http_response", "error_msg"],
];

function scan(source: string, text: string, list: Secret[], found: string[]) {
  const lines = text.split("\n");
  for (const s of list) {
    const hit = typeof s.find === "string"
      ? lines.findIndex((l) => l.includes(s.find as string))
      : lines.findIndex((l) => (s.find as RegExp).test(l));
    if (hit >= 0) {
      // Say what was found and where, without printing a known secret again.
      const shown = typeof s.find === "string"
        ? ""
        : ` (${lines[hit].match(s.find)![0].slice(0, 6)}...)`;
      found.push(`${source}:${hit + 1}: ${s.name}${shown}`);
    }
  }
}

Deno.test("secrets: nothing the stack logged holds a token, an API key or a webhook secret", async () => {
  const list = await secrets();
  const found: string[] = [];

  const files = logFiles(cfg.dir);
  assert.ok(files.some((f) => f.endsWith("functions.log")), `no functions.log under ${cfg.dir}`);
  for (const file of files) scan(relative(cfg.dir, file), Deno.readTextFileSync(file), list, found);

  const sql = connect();
  try {
    for (const [table, column] of LOGGED_COLUMNS) {
      const [{ exists }] = await sql`select to_regclass(${table}) is not null as exists`;
      if (!exists) continue;
      const rows = await sql.unsafe(
        `select ${column}::text as value from ${table} where ${column} is not null`,
      );
      scan(`${table}.${column}`, rows.map((r) => r.value).join("\n"), list, found);
    }
  } finally {
    await sql.end();
  }
  assert.deepEqual(found, [], `secrets in the ${cfg.name} stack's logs`);
});
