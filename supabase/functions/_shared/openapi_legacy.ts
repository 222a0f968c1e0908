// TRANSITIONAL: the operations lists of functions not yet moved to routes with their own
// contract (see openapi.ts). Deleted once every function is converted.
// The API's description. Each function lists its operations next to its routes, pointing at
// the very zod schemas the routes validate with; this turns them into one OpenAPI 3.1
// document (`npm run openapi` writes it to supabase/functions/openapi/openapi.json).
import { z } from "zod";
import { AIDE_VERSION } from "./version.ts";

export interface Operation {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** The route as the function's Hono app declares it, e.g. "/:id/messages". */
  path: string;
  summary: string;
  /**
   * user: a user's access token; jwt: any JWT of the project (checked by the platform);
   * secret: the Vault webhook secret as a bearer token; signature: the transcript webhook HMAC.
   */
  auth: "user" | "jwt" | "secret" | "signature";
  query?: z.ZodType;
  body?: z.ZodType;
  /** multipart/form-data fields (besides the file). */
  form?: z.ZodType;
  /** Status code -> description; 2xx ones that stream say so. */
  responses: Record<number, string>;
  streams?: boolean;
}

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as Record<string, unknown>;

const ERROR = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
    },
  },
};

/** Full path under /functions/v1, in OpenAPI's `{param}` form. */
export function openApiPath(fn: string, path: string) {
  return `/${fn}${path === "/" ? "" : path}`.replace(/:(\w+)/g, "{$1}");
}

function parameters(fn: string, op: Operation) {
  const inPath = [...openApiPath(fn, op.path).matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: name === "alias" ? { type: "string" } : { type: "string", format: "uuid" },
  }));
  const query = op.query ? jsonSchema(op.query) : null;
  const props = (query?.properties ?? {}) as Record<string, unknown>;
  const required = new Set((query?.required ?? []) as string[]);
  const inQuery = Object.entries(props).map(([name, schema]) => ({
    name,
    in: "query",
    required: required.has(name),
    schema,
  }));
  return [...inPath, ...inQuery];
}

function operationObject(fn: string, op: Operation) {
  const security = {
    user: [{ userJwt: [] }],
    jwt: [{ userJwt: [] }],
    secret: [{ webhookSecret: [] }],
    signature: [{ transcriptSignature: [] }],
  }[op.auth];
  const content: Record<string, unknown> = {};
  if (op.body) content["application/json"] = { schema: jsonSchema(op.body) };
  if (op.form) {
    const form = jsonSchema(op.form);
    content["multipart/form-data"] = {
      schema: {
        ...form,
        properties: { file: { type: "string", format: "binary" }, ...(form.properties as object) },
        required: ["file"],
      },
    };
  }
  const requestBody = Object.keys(content).length ? { required: true, content } : undefined;
  const responses = Object.fromEntries(
    Object.entries(op.responses).map(([status, description]) => {
      const ok = Number(status) < 300;
      const content = !ok
        ? { "application/json": { schema: { $ref: "#/components/schemas/Error" } } }
        : op.streams
        ? { "text/event-stream": { schema: { type: "string" } } }
        : status === "204"
        ? undefined
        : { "application/json": { schema: {} } };
      return [status, content ? { description, content } : { description }];
    }),
  );
  return {
    operationId: `${op.method.toLowerCase()}${
      openApiPath(fn, op.path).replace(/[{}]/g, "").replace(/[/-](\w)/g, (_, c) => c.toUpperCase())
    }`,
    summary: op.summary,
    tags: [fn],
    security,
    parameters: parameters(fn, op),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      ...responses,
      ...(op.auth === "user" || op.auth === "jwt"
        ? { 401: { description: "Missing, invalid or expired token" } }
        : {}),
    },
    "x-aide-auth": op.auth,
  };
}

export function openApiDocument(functions: Record<string, Operation[]>) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [fn, ops] of Object.entries(functions).sort(([a], [b]) => a.localeCompare(b))) {
    for (const op of ops) {
      const path = openApiPath(fn, op.path);
      paths[path] ??= {};
      paths[path][op.method.toLowerCase()] = operationObject(fn, op);
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
      schemas: { Error: ERROR },
    },
    paths,
  };
}
