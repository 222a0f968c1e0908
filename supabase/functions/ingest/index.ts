// POST /functions/v1/ingest {document_id} or {object_type, object_id}: called by the database (trigger and sweeper, through
// pg_net) with the Vault secret `aide_webhook_secret`, never by users.
import { z } from "zod";
import { createApp } from "../_shared/app.ts";
import type { Operation } from "../_shared/openapi_legacy.ts";
import { indexObject, ingestDocument } from "../_shared/knowledge/ingest.ts";
import { requireBearerSecret } from "../_shared/secrets.ts";
import { jsonBody } from "../_shared/validate.ts";

const app = createApp("ingest");
const IngestRequest = z.union([
  z.strictObject({ document_id: z.uuid() }),
  z.strictObject({ object_type: z.enum(["event", "note", "thread"]), object_id: z.uuid() }),
]);

app.post("/", async (c) => {
  await requireBearerSecret(c.req.raw, "aide_webhook_secret");
  const body = await jsonBody(c, IngestRequest);
  const result = "document_id" in body
    ? await ingestDocument(body.document_id, c.get("requestId"))
    : await indexObject({ type: body.object_type, id: body.object_id }, c.get("requestId"));
  return c.json(result, result.status === "failed" ? 500 : 200);
});

/** This function's operations, for the OpenAPI document (npm run openapi). */
export const operations: Operation[] = [
  {
    method: "POST",
    path: "/",
    summary: "Index one document, event, note or thread (called by the database)",
    auth: "secret",
    body: IngestRequest,
    responses: {
      200: "Indexed, skipped or superseded",
      400: "Invalid body",
      401: "Bad secret",
      500: "Indexing failed; retried later",
    },
  },
];

export { app };
Deno.serve(app.fetch);
