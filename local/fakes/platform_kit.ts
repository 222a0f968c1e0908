/**
 * What the fake Slack, Microsoft and Telegram servers share: reading parameters the way the real
 * APIs accept them (query, form or JSON), JSON answers, HMAC, and a log of the requests each fake
 * received, readable from tests at `GET /__fake/requests` (never with tokens or secrets).
 */

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** Query parameters merged with a form or JSON body: Slack and Telegram accept all three. */
export async function params(req: Request): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = Object.fromEntries(new URL(req.url).searchParams);
  if (req.method === "GET" || req.method === "DELETE") return out;
  const type = req.headers.get("content-type") ?? "";
  const text = await req.text();
  if (!text) return out;
  if (type.includes("application/json")) {
    try {
      Object.assign(out, JSON.parse(text));
    } catch {
      out.__invalid_json = true;
    }
  } else {
    Object.assign(out, Object.fromEntries(new URLSearchParams(text)));
  }
  return out;
}

export const bearer = (req: Request) =>
  req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? null;

export function randomToken(prefix: string, bytes = 18): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return prefix + Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
}

const encoder = new TextEncoder();

export async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Base64Url(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

export interface LoggedRequest {
  at: string;
  method: string;
  path: string;
  /** The API method (Slack `chat.postMessage`, Graph `POST /subscriptions`, Telegram `sendMessage`). */
  api: string;
  /** Parameters without credentials (tokens, secrets, codes are replaced by "[redacted]"). */
  params: Record<string, unknown>;
  status: number;
}

const SECRET_PARAMS =
  /^(token|client_secret|code|code_verifier|refresh_token|access_token|secret_token|assertion)$/;

/** The requests a fake received, newest last, bounded. */
export class RequestLog {
  private entries: LoggedRequest[] = [];

  add(req: Request, api: string, p: Record<string, unknown>, status: number) {
    const clean = Object.fromEntries(
      Object.entries(p).map(([k, v]) => [k, SECRET_PARAMS.test(k) ? "[redacted]" : v]),
    );
    this.entries.push({
      at: new Date().toISOString(),
      method: req.method,
      path: new URL(req.url).pathname.replace(/\/bot[^/]+\//, "/bot<token>/"),
      api,
      params: clean,
      status,
    });
    if (this.entries.length > 5000) this.entries.splice(0, this.entries.length - 5000);
  }

  list(filter: (e: LoggedRequest) => boolean = () => true) {
    return this.entries.filter(filter);
  }
}

/** Waits, for scripted delays. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs with a timeout; answers {status, body, ms} or {status: 0, error}. */
export async function deliver(
  url: string,
  init: RequestInit,
  timeoutMs = 10_000,
): Promise<{ status: number; body: string; ms: number; error?: string }> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, body, ms: Math.round(performance.now() - started) };
  } catch (e) {
    return { status: 0, body: "", ms: Math.round(performance.now() - started), error: String(e) };
  }
}
