// What every Aide function shares at the HTTP edge: the error shape, CORS, request ids and
// structured logs. Errors are always JSON `{error: {code, message, details?}}`.
import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
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

/**
 * A Hono app for the function `name`. Supabase routes /functions/v1/<name>/* to the function
 * with the path /<name>/*, hence the base path.
 */
export function createApp<E extends AppEnv = AppEnv>(name: string) {
  const app = new Hono<E>().basePath(`/${name}`);
  app.use(
    "*",
    cors({
      origin: (origin) => origin || "*",
      allowHeaders: ["authorization", "x-client-info", "apikey", "content-type"],
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      exposeHeaders: ["retry-after", "x-request-id"],
      maxAge: 86400,
    }),
  );
  app.use("*", async (c, next) => {
    const requestId = c.req.header("x-request-id") ?? crypto.randomUUID();
    c.set("requestId", requestId);
    const started = performance.now();
    await next();
    c.header("x-request-id", requestId);
    log("info", "request", {
      function: name,
      request_id: requestId,
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  });
  app.notFound((c) =>
    c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}`), 404)
  );
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      return c.json(errorBody(err.code, err.message, err.details), err.status, err.headers);
    }
    if (err instanceof HTTPException) {
      return c.json(
        errorBody("bad_request", err.message || "Bad request"),
        err.status as ContentfulStatusCode,
      );
    }
    log("error", "unhandled error", {
      function: name,
      request_id: c.get("requestId"),
      error: String(err),
    });
    return c.json(errorBody("internal", "Internal error"), 500);
  });
  return app;
}
