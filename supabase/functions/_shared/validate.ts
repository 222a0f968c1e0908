// Input validation at the edge: every body, query and path parameter goes through a zod
// schema before any work is done, so bad input gets a clear 4xx and writes nothing.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { ApiError, readBody } from "./http.ts";

/** Largest JSON body any endpoint accepts unless it says otherwise. */
export const MAX_JSON_BYTES = 1_000_000;

/** The 400 for input that fails its schema: `where` names it ("body", "query parameters"). */
export const invalidInput = (where: string, error: z.ZodError) =>
  new ApiError(
    400,
    "invalid_request",
    `Invalid ${where}`,
    error.issues.map((i) => ({ path: i.path.join("."), message: i.message, code: i.code })),
  );

/** Validates what a route's own schemas cannot (form fields, a signed webhook's body). */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(where, result.error);
  return result.data;
}

/**
 * Middleware for routes with a JSON body (route() adds it): reads the body once, refusing it
 * with 415 if it is not JSON, 413 if too large, 400 if malformed, and leaves the text for the
 * route's validator. An optional body may be left out (no content type) or empty.
 */
export const readJson = (maxBytes: number, { optional = false } = {}) =>
  createMiddleware(async (c, next) => {
    if (optional && !c.req.header("content-type")) return await next();
    const text = optional && c.req.header("content-length") === "0"
      ? "{}"
      : await readJsonText(c, maxBytes);
    // Hono's body cache, which the validator's c.req.json() reads (typed loosely by Hono).
    (c.req.bodyCache as Record<string, Promise<string>>).text = Promise.resolve(text);
    await next();
  });

async function readJsonText(c: Context, maxBytes: number): Promise<string> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "Send the body as application/json");
  }
  const text = new TextDecoder().decode(await readBody(c.req.raw, maxBytes));
  try {
    JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "The body is not valid JSON");
  }
  return text;
}

/** Opaque pagination cursors: base64url JSON, validated on the way back in. */
export function encodeCursor(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor<S extends z.ZodType>(schema: S, cursor: string): z.output<S> {
  try {
    const json = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const result = schema.safeParse(JSON.parse(json));
    if (result.success) return result.data;
  } catch { /* fall through */ }
  throw new ApiError(400, "invalid_cursor", "The cursor is not valid; start again without it");
}

/** An ILIKE pattern matching `text` anywhere, with its own % and _ taken literally. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
