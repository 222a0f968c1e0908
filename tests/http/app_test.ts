// The app every function is built on (supabase/functions/_shared/app.ts) and routes declared
// with route(): validation from the route's own schemas, the JSON error format and statuses,
// and the OpenAPI document built from the same definitions. In process, no stack needed.
import assert from "node:assert/strict";
import { z } from "@hono/zod-openapi";
import { createApp } from "../../supabase/functions/_shared/app.ts";
import { ApiError } from "../../supabase/functions/_shared/http.ts";
import {
  json,
  jsonBody,
  openApiDocument,
  route,
  uuidParams,
} from "../../supabase/functions/_shared/openapi.ts";

const Note = z.object({ id: z.uuid(), text: z.string(), limit: z.number().int() });

function notesApp() {
  const app = createApp("notes");
  app.openapi(
    route({
      method: "post",
      path: "/{id}",
      summary: "Save a note",
      auth: "user",
      bodyLimit: 100,
      request: {
        params: uuidParams("id"),
        query: z.strictObject({ limit: z.coerce.number().int().min(1).max(10).default(5) }),
        body: jsonBody(z.strictObject({ text: z.string().min(1) })),
      },
      responses: { 201: json(Note, "The note") },
      errors: { 400: "Invalid input", 409: "Exists" },
    }),
    (c) => {
      const { id } = c.req.valid("param");
      const { text } = c.req.valid("json");
      if (text === "taken") throw new ApiError(409, "exists", "Already there", { id });
      return c.json({ id, text, limit: c.req.valid("query").limit }, 201);
    },
  );
  return app;
}

const id = crypto.randomUUID();
const post = (path: string, body: string | null, type = "application/json") =>
  notesApp().request(path, {
    method: "POST",
    body,
    headers: type ? { "content-type": type } : {},
  });

Deno.test("a valid request reaches the handler with the parsed and defaulted input", async () => {
  const res = await post(`/notes/${id}`, JSON.stringify({ text: "hi" }));
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { id, text: "hi", limit: 5 });
  assert.ok(res.headers.get("x-request-id"));
});

Deno.test("bad input answers our JSON error with the same statuses as before", async () => {
  const cases: [string, string | null, string, number, string][] = [
    [`/notes/not-a-uuid`, '{"text":"a"}', "application/json", 400, "invalid_request"],
    [`/notes/${id}?limit=11`, '{"text":"a"}', "application/json", 400, "invalid_request"],
    [`/notes/${id}?nope=1`, '{"text":"a"}', "application/json", 400, "invalid_request"],
    [`/notes/${id}`, '{"text":""}', "application/json", 400, "invalid_request"],
    [`/notes/${id}`, '{"text":"a","x":1}', "application/json", 400, "invalid_request"],
    [`/notes/${id}`, '{"text": ', "application/json", 400, "invalid_json"],
    [`/notes/${id}`, '{"text":"a"}', "text/plain", 415, "unsupported_media_type"],
    [`/notes/${id}`, '{"text":"a"}', "", 415, "unsupported_media_type"],
    [
      `/notes/${id}`,
      JSON.stringify({ text: "x".repeat(200) }),
      "application/json",
      413,
      "payload_too_large",
    ],
    [`/notes/${id}`, '{"text":"taken"}', "application/json", 409, "exists"],
    [`/elsewhere`, null, "", 404, "not_found"],
  ];
  for (const [path, body, type, status, code] of cases) {
    const res = await post(path, body, type);
    const answer = await res.json();
    assert.equal(res.status, status, `${path} ${body}: ${JSON.stringify(answer)}`);
    assert.equal(answer.error.code, code, path);
    assert.equal(typeof answer.error.message, "string");
  }
  const invalid = await (await post(`/notes/${id}`, '{"text":""}')).json();
  assert.equal(invalid.error.message, "Invalid body");
  assert.deepEqual(invalid.error.details.map((d: { path: string }) => d.path), ["text"]);
  const conflict = await (await post(`/notes/${id}`, '{"text":"taken"}')).json();
  assert.deepEqual(conflict.error.details, { id });
});

Deno.test("the OpenAPI document comes from the same route definitions", () => {
  const doc = openApiDocument({ notes: notesApp() });
  // deno-lint-ignore no-explicit-any
  const op = doc.paths["/notes/{id}"].post as Record<string, any>;
  assert.equal(op.operationId, "postNotesId");
  assert.deepEqual(op.tags, ["notes"]);
  assert.equal(op["x-aide-auth"], "user");
  assert.deepEqual(op.security, [{ userJwt: [] }]);
  // What the JSON body reader answers (413, 415) is described without the route listing it;
  // the route's own wording for 400 wins over the reader's.
  assert.deepEqual(Object.keys(op.responses).sort(), ["201", "400", "401", "409", "413", "415"]);
  assert.equal(op.responses["400"].description, "Invalid input");
  assert.equal(op.responses["415"].description, "Not JSON");
  assert.deepEqual(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`), [
    "path:id",
    "query:limit",
  ]);
  assert.equal(op.requestBody.required, true);
  const body = op.requestBody.content["application/json"].schema;
  assert.deepEqual(body.required, ["text"]);
  assert.equal(body.additionalProperties, false);
  assert.deepEqual(Object.keys(doc.components.schemas).sort(), ["Error", "PlatformError"]);
  assert.deepEqual(
    op.responses["409"].content["application/json"].schema,
    { $ref: "#/components/schemas/Error" },
  );
});
