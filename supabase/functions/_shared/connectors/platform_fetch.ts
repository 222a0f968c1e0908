// Calls to the platforms' APIs: a timeout on every call, the answer parsed as JSON, and a 429's
// Retry-After kept on the error so the caller can wait exactly that long (the backfill resumes
// from its cursor then). The policy is the caller's: nothing here retries on its own.
import { PlatformError, type Provider } from "./types.ts";

const TIMEOUT_MS = Number(Deno.env.get("AIDE_PLATFORM_TIMEOUT_MS") ?? 15_000);

export interface PlatformResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export async function platformFetch<T = Record<string, unknown>>(
  provider: Provider,
  url: string,
  init: RequestInit = {},
): Promise<PlatformResponse<T>> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    const what = e instanceof DOMException && e.name === "TimeoutError" ? "timed out" : "failed";
    throw new PlatformError(provider, 0, "unreachable", `${provider} request ${what}`);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (res.status === 429) {
    const retryAfter = Number(res.headers.get("retry-after") ?? 60);
    throw new PlatformError(
      provider,
      429,
      "rate_limited",
      `${provider} rate limit`,
      Number.isFinite(retryAfter) ? retryAfter : 60,
    );
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** A form-encoded body (Slack and the Microsoft token endpoint take these). */
export const form = (values: Record<string, string | undefined | null>) =>
  new URLSearchParams(
    Object.entries(values).filter((e): e is [string, string] =>
      e[1] !== undefined && e[1] !== null
    ),
  );
