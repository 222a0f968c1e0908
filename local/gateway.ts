// The local API gateway, standing in for Supabase's Kong. One process serves, on the API port:
//   /rest/v1/*               proxied to PostgREST
//   /functions/v1/<name>/*   every function in supabase/functions, each in its own worker
//                            process under Supabase's limits (local/functions/pool.ts)
//   /auth/v1/*               the Auth server (local/auth), with the stack's JWKS
//   /storage/v1/object/*     the Storage stand-in (local/storage.ts)
// Each function runs as on Supabase: its index.ts calls Deno.serve(handler) (or default-exports
// { fetch }), sees the path /<name>/..., has the SUPABASE_* env vars, may use
// EdgeRuntime.waitUntil, and is protected by a JWT check unless config.toml sets
// verify_jwt = false for it.
import { join } from "node:path";
import postgres from "postgres";
import { readAuthConfig } from "./auth/config.ts";
import { authServer } from "./auth/server.ts";
import { ROOT } from "./config.ts";
import { functionsPool, SUPABASE_LIMITS } from "./functions/pool.ts";
import { verifyJwt } from "./jwt.ts";
import { storageHandler } from "./storage.ts";

const FUNCTIONS_DIR = join(ROOT, "supabase/functions");
const env = (name: string) => {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set (the gateway is started by local/stack.ts)`);
  return value;
};
const port = Number(env("AIDE_API_PORT"));
const postgrestUrl = env("AIDE_POSTGREST_URL");
const publicJwks = JSON.parse(Deno.readTextFileSync(env("AIDE_JWKS_FILE")));
const storage = storageHandler(env("SUPABASE_DB_URL"), env("AIDE_STORAGE_DIR"));
/** The stack's private signing key, for Auth only: functions never get its path. */
function readSigningKeys() {
  const keys = JSON.parse(Deno.readTextFileSync(env("AIDE_KEYS_FILE")));
  Deno.env.delete("AIDE_KEYS_FILE");
  return keys;
}
const authConfig = readAuthConfig(Deno.readTextFileSync(join(ROOT, "supabase/config.toml")));
// Throwaway stacks send more mails an hour than config.toml's 2 (the CLI's local default).
const mailsPerHour = Deno.env.get("AIDE_AUTH_EMAIL_SENT_PER_HOUR");
if (mailsPerHour) authConfig.rateLimits.emailSent = Number(mailsPerHour);
const auth = authServer({
  sql: postgres(env("SUPABASE_DB_URL"), { max: 5, onnotice: () => {} }),
  cfg: authConfig,
  keys: readSigningKeys(),
  publicJwks,
  apiUrl: env("SUPABASE_URL"),
});

const log = (event: Record<string, unknown>) =>
  console.log(JSON.stringify({ at: new Date().toISOString(), ...event }));

// --- Functions: each in its own worker process (local/functions/pool.ts) -------------------
/** Names of functions with verify_jwt = false in supabase/config.toml. */
function functionsWithoutJwtCheck(): Set<string> {
  const open = new Set<string>();
  let section = "";
  for (const line of Deno.readTextFileSync(join(ROOT, "supabase/config.toml")).split("\n")) {
    const header = line.match(/^\s*\[([^\]]+)\]/);
    if (header) section = header[1].trim();
    const fn = section.match(/^functions\.("?)([\w-]+)\1$/);
    if (fn && /^\s*verify_jwt\s*=\s*false\b/.test(line)) open.add(fn[2]);
  }
  return open;
}
const noJwtCheck = functionsWithoutJwtCheck();

// Test stacks add tests/functions (fixtures that break limits on purpose), with the per-function
// limits in its limits.json.
const extraDir = Deno.env.get("AIDE_EXTRA_FUNCTIONS_DIR");
const wallClockSeconds = Number(Deno.env.get("AIDE_FUNCTIONS_WALL_CLOCK_SECONDS") ?? 150);
const functions = functionsPool({
  dirs: [FUNCTIONS_DIR, ...(extraDir ? [extraDir] : [])],
  env: Deno.env.toObject(),
  logDir: env("AIDE_LOG_DIR"),
  runDir: env("AIDE_RUN_DIR"),
  limits: { ...SUPABASE_LIMITS, wallClockMs: wallClockSeconds * 1000 },
  overrides: extraDir ? JSON.parse(Deno.readTextFileSync(join(extraDir, "limits.json"))) : {},
});
await functions.startAll();
if (Deno.env.get("AIDE_HOT_RELOAD") === "1") functions.reloadOnChange(FUNCTIONS_DIR);
Deno.writeTextFileSync(join(env("AIDE_RUN_DIR"), "gateway.pid"), String(Deno.pid));

// --- Serving ---------------------------------------------------------------------------------
const json = (status: number, body: unknown) => Response.json(body, { status });

async function callerClaims(req: Request) {
  const auth = req.headers.get("authorization");
  const token = auth?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) return "missing" as const;
  for (const key of publicJwks.keys) {
    const claims = await verifyJwt(token, key);
    if (claims) return claims;
  }
  return null;
}

/**
 * The client's address, as the platform hands it to a function: Cloudflare's
 * `cf-connecting-ip` and the API gateway's `x-real-ip` replace whatever the client sent, and
 * the address is appended to `x-forwarded-for` (see supabase/functions/_shared/client_address.ts).
 */
function withClientAddress(req: Request, info: Deno.ServeHandlerInfo): Request {
  const address = (info.remoteAddr as Deno.NetAddr).hostname;
  const headers = new Headers(req.headers);
  headers.set("cf-connecting-ip", address);
  headers.set("x-real-ip", address);
  const forwarded = headers.get("x-forwarded-for");
  headers.set("x-forwarded-for", forwarded ? `${forwarded}, ${address}` : address);
  return new Request(req, { headers });
}

async function invokeFunction(req: Request, url: URL) {
  const [, name] = url.pathname.match(/^\/functions\/v1\/([^/]+)/) ?? [];
  const worker = functions.get(name);
  if (!worker) {
    return json(404, { code: "NOT_FOUND", message: "Requested function was not found" });
  }
  if (req.method !== "OPTIONS" && !noJwtCheck.has(name)) {
    const claims = await callerClaims(req);
    if (claims === "missing") {
      return json(401, { code: 401, message: "Missing authorization header" });
    }
    if (!claims) return json(401, { code: 401, message: "Invalid JWT" });
  }
  return await worker.handle(req, url.pathname.slice("/functions/v1".length) + url.search);
}

async function serveStorage(req: Request, url: URL) {
  const claims = await callerClaims(req);
  const path = url.pathname.slice("/storage/v1".length);
  // A signed link carries its own proof (the token); everything else needs a JWT.
  const signedLink = req.method === "GET" && path.startsWith("/object/sign/");
  if (!signedLink && (claims === "missing" || !claims)) {
    return json(401, {
      statusCode: "401",
      error: "Unauthorized",
      message: "Invalid or missing JWT",
    });
  }
  return await storage(req, path, claims === "missing" ? null : claims, url);
}

function proxyToPostgrest(req: Request, url: URL) {
  const headers = new Headers(req.headers);
  headers.delete("host");
  return fetch(postgrestUrl + url.pathname.slice("/rest/v1".length) + url.search, {
    method: req.method,
    headers,
    body: req.body,
    redirect: "manual",
  });
}

const server = Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => {} },
  async (req, info) => {
    const url = new URL(req.url);
    const started = performance.now();
    let res: Response;
    if (url.pathname.startsWith("/functions/v1/")) {
      res = await invokeFunction(withClientAddress(req, info), url);
    } else if (url.pathname.startsWith("/rest/v1/")) res = await proxyToPostgrest(req, url);
    else if (url.pathname.startsWith("/storage/v1/")) res = await serveStorage(req, url);
    else if (url.pathname.startsWith("/auth/v1/")) res = await auth(req, info);
    else res = json(404, { code: "NOT_FOUND", message: "no route" });
    // Paths only: query strings and headers may carry tokens.
    log({
      msg: "request",
      method: req.method,
      path: url.pathname,
      status: res.status,
      ms: Math.round(performance.now() - started),
    });
    return res;
  },
);
log({ msg: "gateway listening", port, functions: functions.names() });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, async () => {
    // Let open streams and background work finish briefly, as the platform does before
    // recycling a worker, but never hang the shutdown on them.
    const grace = new Promise((r) => setTimeout(r, 5000));
    await Promise.race([Promise.all([server.shutdown(), functions.stopAll()]), grace]);
    Deno.exit(0);
  });
}
