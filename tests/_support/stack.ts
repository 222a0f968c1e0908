// What integration tests need to talk to the running test stack (started by `npm test`, or
// by hand with `npm start -- --stack test` and `AIDE_STACK=test deno test -A tests/`).
import { join } from "node:path";
import postgres from "postgres";
import { dbUrl, readEnvFile, stackConfig } from "../../local/config.ts";
import { issueUserToken } from "../../local/token.ts";

export const cfg = stackConfig(Deno.env.get("AIDE_STACK") ?? "test");
export const env = readEnvFile(join(cfg.dir, "stack.env"));
if (!env.SUPABASE_URL) {
  throw new Error(
    `the ${cfg.name} stack is not running: use npm test (or npm start -- --stack ${cfg.name})`,
  );
}

export const FUNCTIONS_URL = `${env.SUPABASE_URL}/functions/v1`;
export const REST_URL = `${env.SUPABASE_URL}/rest/v1`;

/** A superuser connection to the stack's database; close it with `await sql.end()`. */
export const connect = () => postgres(dbUrl(cfg), { max: 2, onnotice: () => {} });

/** A new user (unique email) with a valid access token. */
export async function newUser(prefix = "user") {
  const email = `${prefix}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  return await issueUserToken(cfg, email);
}

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** fetch() that always consumes the body, returning status, headers and parsed JSON (or text). */
export async function call(url: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (!headers.has("apikey")) headers.set("apikey", env.SUPABASE_ANON_KEY);
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  // deno-lint-ignore no-explicit-any
  return { status: res.status, headers: res.headers, body: body as any, text };
}

/** A PostgREST request as the user (RLS applies). */
export const rest = (token: string, path: string, init: RequestInit = {}) =>
  call(`${REST_URL}${path}`, {
    ...init,
    token,
    headers: {
      "content-type": "application/json",
      prefer: "return=representation",
      ...init.headers,
    },
  });
