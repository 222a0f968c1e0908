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

/**
 * An error a database rule raised for the client, e.g. a quota or rate limit enforced by a
 * trigger: SQLSTATE `PTxyz` (which PostgREST answers with HTTP status xyz), the error code in
 * HINT and its details as JSON in DETAIL. Anything else is not the client's to see.
 */
export function sqlRaisedError(err: unknown): ApiError | undefined {
  const e = err as { code?: unknown; hint?: unknown; detail?: unknown; message?: unknown };
  const status = typeof e?.code === "string" ? e.code.match(/^PT([45]\d\d)$/)?.[1] : undefined;
  if (!status) return;
  let details: Record<string, unknown> | undefined;
  try {
    details = typeof e.detail === "string" ? JSON.parse(e.detail) : undefined;
  } catch { /* not JSON: no details */ }
  const retry = details?.retry_after_seconds;
  return new ApiError(
    Number(status) as ContentfulStatusCode,
    typeof e.hint === "string" && e.hint ? e.hint : "refused",
    String(e.message),
    details,
    typeof retry === "number" ? { "retry-after": String(retry) } : undefined,
  );
}

export type AppEnv = { Variables: { requestId: string } };

/**
 * Reads a request body, but never more than `maxBytes`: 413 as soon as it declares more
 * (Content-Length) or sends more (a chunked body has no length), without reading the rest.
 */
export async function readBody(req: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () =>
    new ApiError(413, "payload_too_large", `The body is larger than ${maxBytes} bytes`);
  if (Number(req.headers.get("content-length") ?? 0) > maxBytes) throw tooLarge();
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/**
 * Headers of a user's file answered as a download: saved under its name (the last segment of
 * `path`), ETag its sha256, never cached, never sniffed or rendered on the API's origin (a
 * generated HTML file stays a file).
 */
export function downloadHeaders(contentType: string, path: string, sha256: string) {
  const name = path.split("/").at(-1)!;
  return {
    "content-type": contentType,
    "content-disposition": `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; ` +
      `filename*=UTF-8''${encodeURIComponent(name)}`,
    etag: `"${sha256}"`,
    "cache-control": "private, no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox",
  };
}
