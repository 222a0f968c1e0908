// The Hono app every Aide function is built on: an OpenAPIHono app whose routes carry their own
// request and response schemas (see openapi.ts), with the middleware chain all functions share
// (CORS, request id, one log line per request) and errors always answered as JSON
// `{error: {code, message, details?}}`, whether thrown by a handler or by route validation.
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, type AppEnv, errorBody, log, sqlRaisedError } from "./http.ts";
import { invalidInput } from "./validate.ts";

/** How the validation hook names what was invalid, as the 400's message says. */
const WHERE: Record<string, string> = {
  json: "body",
  query: "query parameters",
  param: "path parameters",
  form: "form fields",
  header: "headers",
};

/** A client's x-request-id: at most 128 printable ASCII characters; anything else gets a new id. */
const REQUEST_ID = /^[\x20-\x7e]{1,128}$/;

/**
 * A Hono app for the function `name`. Supabase routes /functions/v1/<name>/* to the function
 * with the path /<name>/*, hence the base path.
 */
export function createApp<E extends AppEnv = AppEnv>(name: string) {
  const app = new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw invalidInput(WHERE[result.target] ?? result.target, result.error);
    },
  }).basePath(`/${name}`);
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
    // The client's id is kept (logs, usage_ledger.request_id) only if it is a sane one.
    const given = c.req.header("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
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
    const known = err instanceof ApiError ? err : sqlRaisedError(err);
    if (known) {
      return c.json(
        errorBody(known.code, known.message, known.details),
        known.status,
        known.headers,
      );
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
