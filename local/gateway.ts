// The local API gateway and edge-functions runtime, standing in for Supabase's Kong and
// edge-runtime. One process serves, on the API port:
//   /rest/v1/*               proxied to PostgREST
//   /functions/v1/<name>/*   every function in supabase/functions, run in this process
//   /auth/v1/*               the Auth server (local/auth), with the stack's JWKS
// Each function runs as on Supabase: its index.ts calls Deno.serve(handler) (or default-exports
// { fetch }), sees the path /<name>/..., has the SUPABASE_* env vars, may use
// EdgeRuntime.waitUntil, and is protected by a JWT check unless config.toml sets
// verify_jwt = false for it.
import { join } from "node:path";
import postgres from "postgres";
import { readAuthConfig } from "./auth/config.ts";
import { authServer } from "./auth/server.ts";
import { ROOT } from "./config.ts";
import { verifyJwt } from "./jwt.ts";
import { storageHandler } from "./storage.ts";

type Handler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

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
const authConfig = readAuthConfig(Deno.readTextFileSync(join(ROOT, "supabase/config.toml")));
// Throwaway stacks send more mails an hour than config.toml's 2 (the CLI's local default).
const mailsPerHour = Deno.env.get("AIDE_AUTH_EMAIL_SENT_PER_HOUR");
if (mailsPerHour) authConfig.rateLimits.emailSent = Number(mailsPerHour);
const auth = authServer({
  sql: postgres(env("SUPABASE_DB_URL"), { max: 5, onnotice: () => {} }),
  cfg: authConfig,
  keys: JSON.parse(Deno.readTextFileSync(env("AIDE_KEYS_FILE"))),
  publicJwks,
  apiUrl: env("SUPABASE_URL"),
});

const log = (event: Record<string, unknown>) =>
  console.log(JSON.stringify({ at: new Date().toISOString(), ...event }));

// --- EdgeRuntime.waitUntil: background work that outlives the response ----------------------
const background = new Set<Promise<unknown>>();
Object.assign(globalThis, {
  EdgeRuntime: {
    waitUntil(promise: Promise<unknown>) {
      const tracked = Promise.resolve(promise)
        .catch((e) => log({ level: "error", msg: "waitUntil task failed", error: String(e) }))
        .finally(() => background.delete(tracked));
      background.add(tracked);
    },
  },
});

// --- Loading functions -----------------------------------------------------------------------
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

const handlers = new Map<string, Handler>();
const bootErrors = new Map<string, string>();
const noJwtCheck = functionsWithoutJwtCheck();

const serve = Deno.serve.bind(Deno); // the real one, for the gateway itself
let loading = "";
const serveCapture = (...args: unknown[]) => {
  const handler = args.find((a) => typeof a === "function") ??
    (args.find((a) => typeof a === "object" && a && "handler" in a) as { handler?: Handler })
      ?.handler;
  if (handler) handlers.set(loading, handler as Handler);
  return {
    finished: new Promise(() => {}),
    shutdown: async () => {},
    ref() {},
    unref() {},
    addr: { hostname: "127.0.0.1", port, transport: "tcp" },
  };
};
(Deno as unknown as { serve: unknown }).serve = serveCapture;

for (
  const entry of [...Deno.readDirSync(FUNCTIONS_DIR)].sort((a, b) => a.name.localeCompare(b.name))
) {
  if (!entry.isDirectory || entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
  const file = join(FUNCTIONS_DIR, entry.name, "index.ts");
  try {
    Deno.statSync(file);
  } catch {
    continue;
  }
  loading = entry.name;
  try {
    const mod = await import(`file://${file}`);
    if (!handlers.has(entry.name) && typeof mod.default?.fetch === "function") {
      handlers.set(entry.name, mod.default.fetch.bind(mod.default));
    }
    if (!handlers.has(entry.name)) {
      throw new Error("index.ts neither calls Deno.serve nor exports default { fetch }");
    }
  } catch (e) {
    bootErrors.set(entry.name, String(e));
    log({ level: "error", msg: "function failed to boot", function: entry.name, error: String(e) });
  }
}

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

async function invokeFunction(req: Request, info: Deno.ServeHandlerInfo, url: URL) {
  const [, name] = url.pathname.match(/^\/functions\/v1\/([^/]+)/) ?? [];
  const handler = handlers.get(name);
  if (bootErrors.has(name)) {
    return json(503, {
      code: "BOOT_ERROR",
      message: "Function failed to start (please check logs)",
    });
  }
  if (!handler) {
    return json(404, { code: "NOT_FOUND", message: "Requested function was not found" });
  }
  if (req.method !== "OPTIONS" && !noJwtCheck.has(name)) {
    const claims = await callerClaims(req);
    if (claims === "missing") {
      return json(401, { code: 401, message: "Missing authorization header" });
    }
    if (!claims) return json(401, { code: 401, message: "Invalid JWT" });
  }
  const inner = new URL(url.pathname.slice("/functions/v1".length) + url.search, url.origin);
  try {
    return await handler(new Request(inner, req), info);
  } catch (e) {
    log({ level: "error", msg: "function threw", function: name, error: String(e) });
    return json(500, { error: { code: "internal", message: "Internal error" } });
  }
}

async function serveStorage(req: Request, url: URL) {
  const claims = await callerClaims(req);
  if (claims === "missing" || !claims) {
    return json(401, {
      statusCode: "401",
      error: "Unauthorized",
      message: "Invalid or missing JWT",
    });
  }
  return await storage(req, url.pathname.slice("/storage/v1".length), claims);
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

const server = serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req, info) => {
  const url = new URL(req.url);
  const started = performance.now();
  let res: Response;
  if (url.pathname.startsWith("/functions/v1/")) res = await invokeFunction(req, info, url);
  else if (url.pathname.startsWith("/rest/v1/")) res = await proxyToPostgrest(req, url);
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
});
log({ msg: "gateway listening", port, functions: [...handlers.keys()] });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, async () => {
    // Let open streams and background work finish briefly, as the platform does before
    // recycling a worker, but never hang the shutdown on them.
    const grace = new Promise((r) => setTimeout(r, 5000));
    await Promise.race([Promise.all([server.shutdown(), ...background]), grace]);
    Deno.exit(0);
  });
}
