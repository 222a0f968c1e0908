// The SDK's one way to call the API: the caller's token on every request, and this retry policy.
//
// Retry policy: a 429 (rate limited) or 503 (unavailable) means the request was refused before
// it did anything, so it is sent again, up to `retries` more times (default 3): after the
// `Retry-After` the server gave (seconds or an HTTP date), or else after an exponential backoff
// with full jitter (0.5 s, 1 s, 2 s, ...), never longer than `maxRetryDelayMs` (default 30 s;
// a longer Retry-After is not waited for: the error is thrown). Any other 4xx is the caller's to
// fix and is never retried; nor are other 5xx, whose request may have done its work. A network
// error is retried only for GET. An aborted request is never retried and rejects with
// fetch's own AbortError (so useChat's stop() is not an error).
//
// Auth: with `supabase`, the token is read from its session before every request (supabase-js
// refreshes it as it nears expiry); a 401 makes it refresh the session once and try again.
import { AideError } from "./errors.ts";

/** The part of a supabase-js client the SDK uses (so supabase-js is not a dependency). */
export interface SupabaseAuthLike {
  auth: {
    getSession(): Promise<
      { data: { session: { access_token: string } | null } }
    >;
    refreshSession?(): Promise<
      { data: { session: { access_token: string } | null } }
    >;
  };
}

export interface AideClientOptions {
  /** The project's URL (SUPABASE_URL), e.g. http://127.0.0.1:54321 or https://<ref>.supabase.co */
  url: string;
  /** Take the user's token from this supabase-js client's session. */
  supabase?: SupabaseAuthLike;
  /** Or a fixed token, or a function returning the current one. */
  accessToken?: string | (() => string | Promise<string>);
  /** Sent as `apikey` when given (the project's anon key); functions do not need it. */
  apiKey?: string;
  /** Retries of 429 and 503 (default 3). */
  retries?: number;
  /** The longest wait before a retry (default 30000 ms). */
  maxRetryDelayMs?: number;
  /** A fetch to use instead of globalThis.fetch. */
  fetch?: typeof fetch;
  /** Called before each retry (to show "busy, retrying" or to log it). */
  onRetry?: (retry: RetryInfo) => void;
}

export interface RetryInfo {
  url: string;
  /** 1 for the first retry. */
  attempt: number;
  /** The status that caused it; 0 for a network error. */
  status: number;
  delayMs: number;
}

export interface Transport {
  functionsUrl: string;
  /**
   * fetch with the caller's token and the retry policy; throws AideError unless `ok`. `via`
   * sends each attempt instead of the client's fetch (uploads with progress).
   */
  fetch(
    input: string | URL | Request,
    init?: RequestInit,
    via?: (request: Request) => Promise<Response>,
  ): Promise<Response>;
  /** Just the auth headers, for requests made by other code (the useChat transport). */
  authHeaders(): Promise<Record<string, string>>;
}

const RETRY_STATUSES = new Set([429, 503]);
const BASE_DELAY_MS = 500;

/** How long to wait before retry number `attempt` (0-based), or null to give up. */
export function retryDelayMs(
  response: Response | null,
  attempt: number,
  maxDelayMs: number,
) {
  const header = response?.headers.get("retry-after");
  if (header) {
    const seconds = Number(header);
    const ms = Number.isFinite(seconds)
      ? seconds * 1000
      : Date.parse(header) - Date.now();
    if (!Number.isNaN(ms)) return ms > maxDelayMs ? null : Math.max(0, ms);
  }
  return Math.random() * Math.min(maxDelayMs, BASE_DELAY_MS * 2 ** attempt);
}

/** Waits, unless aborted: then rejects with the signal's reason (an AbortError), as fetch does. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", abort, { once: true });
  });

export function createTransport(options: AideClientOptions): Transport {
  if (!options.url) throw new TypeError("createAideClient: `url` is required");
  if (!options.supabase && !options.accessToken) {
    throw new TypeError(
      "createAideClient: pass `supabase` (a supabase-js client) or `accessToken`",
    );
  }
  const functionsUrl = `${options.url.replace(/\/+$/, "")}/functions/v1`;
  const retries = options.retries ?? 3;
  const maxDelayMs = options.maxRetryDelayMs ?? 30_000;
  const baseFetch = options.fetch ??
    ((input, init) => globalThis.fetch(input, init));

  async function token(): Promise<string> {
    if (options.supabase) {
      const { data } = await options.supabase.auth.getSession();
      if (!data.session) {
        throw new AideError(401, "unauthorized", "Not signed in");
      }
      return data.session.access_token;
    }
    const t = options.accessToken!;
    return typeof t === "function" ? await t() : t;
  }

  async function authHeaders(): Promise<Record<string, string>> {
    return {
      authorization: `Bearer ${await token()}`,
      ...(options.apiKey ? { apikey: options.apiKey } : {}),
    };
  }

  async function send(
    request: Request,
    via: (request: Request) => Promise<Response>,
    refreshed: boolean,
  ): Promise<Response> {
    for (let attempt = 0;; attempt++) {
      const attemptRequest = request.clone();
      for (const [name, value] of Object.entries(await authHeaders())) {
        attemptRequest.headers.set(name, value);
      }
      let response: Response;
      try {
        response = await via(attemptRequest);
      } catch (error) {
        if (request.signal.aborted) throw error; // the AbortError, as fetch gives it
        const delay = request.method === "GET" && attempt < retries
          ? retryDelayMs(null, attempt, maxDelayMs)
          : null;
        if (delay === null) {
          throw new AideError(
            0,
            "network_error",
            `Could not reach ${request.url}`,
            String(error),
          );
        }
        options.onRetry?.({
          url: request.url,
          attempt: attempt + 1,
          status: 0,
          delayMs: delay,
        });
        await sleep(delay, request.signal);
        continue;
      }
      if (response.ok) return response;
      if (
        response.status === 401 && options.supabase?.auth.refreshSession &&
        !refreshed
      ) {
        await response.body?.cancel();
        await options.supabase.auth.refreshSession();
        return await send(request, via, true);
      }
      const delay = RETRY_STATUSES.has(response.status) && attempt < retries
        ? retryDelayMs(response, attempt, maxDelayMs)
        : null;
      if (delay === null) throw await AideError.fromResponse(response);
      await response.body?.cancel();
      options.onRetry?.({
        url: request.url,
        attempt: attempt + 1,
        status: response.status,
        delayMs: delay,
      });
      await sleep(delay, request.signal);
    }
  }

  return {
    functionsUrl,
    fetch: (input, init, via) =>
      send(new Request(input, init), via ?? baseFetch, false),
    authHeaders,
  };
}
