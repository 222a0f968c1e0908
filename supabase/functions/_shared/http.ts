// What every Aide function shares at the HTTP edge: the error shape and structured logs.
// Errors are always JSON `{error: {code, message, details?}}` (the app that answers them: app.ts).
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After on a 429. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** One JSON line per event on stdout. Never pass tokens, keys or message content. */
export function log(
  level: "info" | "warn" | "error",
  msg: string,
  fields: Record<string, unknown> = {},
) {
  console.log(JSON.stringify({ at: new Date().toISOString(), level, msg, ...fields }));
}

export type AppEnv = { Variables: { requestId: string } };
