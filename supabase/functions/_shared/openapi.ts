// Routes that carry their own contract. Each route is declared once with `route()` (a thin
// wrapper over @hono/zod-openapi's createRoute): its auth, request schemas (which validate the
// request before the handler runs) and response schemas. `npm run openapi` turns the apps'
// routes into one OpenAPI 3.1 document (supabase/functions/openapi/openapi.json), which the SDK
// generates its types from.
import { createRoute, type OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { AIDE_VERSION } from "./version.ts";
import { MAX_JSON_BYTES, readJson } from "./validate.ts";

/**
 * Who may call a route. user: a user's access token; jwt: any JWT of the project (checked by
 * the platform); secret: the Vault webhook secret as a bearer token; signature: the transcript
 * webhook HMAC; public: nothing (the path holds its own proof, e.g. a share token).
 */
export type Auth = "user" | "jwt" | "secret" | "signature" | "public";

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  user: [{ userJwt: [] }],
  public: [],
  jwt: [{ userJwt: [] }],
  secret: [{ webhookSecret: [] }],
  signature: [{ transcriptSignature: [] }],
};

export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
}).openapi("Error");

/** What the platform's own JWT check answers before a function runs. */
const PlatformError = z.object({ code: z.number().int(), message: z.string() })
  .openapi("PlatformError");

const errorResponse = (description: string, schema: z.ZodType = ErrorSchema) => ({
  description,
  content: { "application/json": { schema } },
});

type RouteInput<P extends string> = Omit<RouteConfig, "path"> & {
  path: P;
  auth: Auth;
  /** Error statuses the route answers, with what they mean; the body is always `Error`. */
  errors?: Record<number, string>;
  /** Largest JSON body the route accepts (default MAX_JSON_BYTES). */
  bodyLimit?: number;
};

/**
 * A route: createRoute's config plus `auth`, `errors` and `bodyLimit`. A JSON body is read
 * (415 if not JSON, 413 over the limit, 400 if malformed) after the route's own middleware and
 * before it is validated; those three statuses are described for every such route.
 */
export function route<P extends string, R extends RouteInput<P>>(input: R) {
  const { auth, errors = {}, bodyLimit = MAX_JSON_BYTES, ...config } = input;
  const body = config.request?.body;
  // A JSON body the router validates (a zod schema) is read first; a described one is the handler's.
  const media = body?.content["application/json"];
  const json = media !== undefined && "schema" in media && media.schema instanceof z.ZodType;
  // The route's own middleware (e.g. a webhook's secret check) comes before the body is read.
  const middleware = [
    ...([config.middleware ?? []].flat() as MiddlewareHandler[]),
    ...(json ? [readJson(bodyLimit, { optional: !body!.required })] : []),
  ];
  // What readJson answers is described here once; a route's own wording wins.
  const bodyErrors = json ? { 400: "Invalid body", 413: "Body too large", 415: "Not JSON" } : {};
  const described: Record<number, ReturnType<typeof errorResponse>> = Object.fromEntries(
    Object.entries({ ...bodyErrors, ...errors }).map((
      [status, description],
    ) => [status, errorResponse(description)]),
  );
  if (auth === "user" || auth === "jwt") {
    described[401] = errorResponse(
      "Missing, invalid or expired token",
      z.union([ErrorSchema, PlatformError]),
    );
  }
  return createRoute({
    ...config,
    ...(middleware.length ? { middleware } : {}),
    security: SECURITY[auth],
    "x-aide-auth": auth,
    responses: { ...config.responses, ...described },
  }) as unknown as Omit<R, "auth" | "errors" | "bodyLimit"> & { path: P };
}

/** A JSON request body (required unless `optional`: then it may be left out or empty). */
export const jsonBody = <S extends z.ZodType, O extends boolean = false>(
  schema: S,
  { optional }: { optional?: O } = {},
) => ({
  required: !optional as O extends true ? false : true,
  content: { "application/json": { schema } },
});

/**
 * A JSON body the document shows but the router does not validate: the handler does, after
 * checking what must come first (a webhook's signature over the raw bytes).
 */
export const describedJsonBody = (schema: z.ZodType) => ({
  required: true,
  content: {
    "application/json": {
      schema: z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<
        string,
        unknown
      > as { type: "object" },
    },
  },
});

/** A JSON response. */
export const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A streamed response (Server-Sent Events). */
export const eventStream = (description: string) => ({
  description,
  content: { "text/event-stream": { schema: z.string() } },
});

/** Path parameters that are uuids, e.g. `uuidParams("id", "messageId")`. */
export const uuidParams = <K extends string>(...names: K[]) =>
  z.strictObject(Object.fromEntries(names.map((n) => [n, z.uuid()])) as Record<K, z.ZodUUID>);

/** A function's app, whatever its context variables. */
// deno-lint-ignore no-explicit-any
export type FunctionApp = OpenAPIHono<any, any, any>;
type Document = ReturnType<FunctionApp["getOpenAPI31Document"]>;
type Operation = Record<string, unknown>;

/** The operation id from method and path: GET /conversations/{id}/messages -> getConversationsIdMessages. */
export const operationId = (method: string, path: string) =>
  `${method}${path.replace(/[{}]/g, "").replace(/[/-](\w)/g, (_, c) => c.toUpperCase())}`;

/**
 * The API's OpenAPI 3.1 document from every function's app (function name -> app). Each
 * operation is tagged with its function; components are shared by name.
 */
export function openApiDocument(apps: Record<string, FunctionApp>) {
  const paths: Record<string, Record<string, Operation>> = {};
  const schemas: Record<string, unknown> = {};
  for (const [fn, app] of Object.entries(apps).sort(([a], [b]) => a.localeCompare(b))) {
    const doc: Document = app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: fn, version: AIDE_VERSION },
    });
    Object.assign(schemas, doc.components?.schemas);
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      const openApiPath = path.replace(/\/$/, "") || "/";
      for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
        paths[openApiPath] ??= {};
        paths[openApiPath][method] = {
          operationId: operationId(method, openApiPath),
          tags: [fn],
          ...op,
        };
      }
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Aide",
      version: AIDE_VERSION,
      description:
        "Backend for AI assistant products on Supabase. Errors are JSON {error: {code, message, details?}}; " +
        "the platform's own JWT check answers {code, message} before a function runs.",
    },
    servers: [{
      url: "{supabaseUrl}/functions/v1",
      variables: { supabaseUrl: { default: "http://127.0.0.1:54321" } },
    }],
    components: {
      securitySchemes: {
        userJwt: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        webhookSecret: {
          type: "http",
          scheme: "bearer",
          description: "The Vault secret aide_webhook_secret",
        },
        transcriptSignature: {
          type: "apiKey",
          in: "header",
          name: "x-aide-signature",
          description:
            "v1=<hex HMAC-SHA256 of '<x-aide-timestamp>.<raw body>'> keyed with aide_transcript_webhook_secret",
        },
      },
      schemas,
    },
    paths,
  };
}
