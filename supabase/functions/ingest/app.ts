// POST /functions/v1/ingest {document_id} or {object_type, object_id}: called by the database
// (trigger and sweeper, through pg_net) with the Vault secret `aide_webhook_secret`, never by
// users. The secret is checked before the body is read.
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { indexObject, ingestDocument } from "../_shared/knowledge/ingest.ts";
import { json, jsonBody, route } from "../_shared/openapi.ts";
import { requireWebhookSecret } from "../_shared/secrets.ts";

export const app = createApp("ingest");

const IngestRequest = z.union([
  z.strictObject({ document_id: z.uuid() }),
  z.strictObject({ object_type: z.enum(["event", "note", "thread"]), object_id: z.uuid() }),
]);

/** What happened to the job (knowledge/ingest.ts IngestResult). */
const IngestResult = z.discriminatedUnion("status", [
  z.object({ status: z.literal("skipped") }),
  z.object({ status: z.literal("ready"), chunks: z.number().int() }),
  z.object({ status: z.literal("superseded") }),
  z.object({ status: z.literal("failed"), job: z.string(), error: z.string() }),
]).openapi("IngestResult");

app.openapi(
  route({
    method: "post",
    path: "/",
    summary: "Index one document, event, note or thread (called by the database)",
    auth: "secret",
    middleware: [requireWebhookSecret],
    request: { body: jsonBody(IngestRequest) },
    responses: {
      200: json(IngestResult, "Indexed, skipped or superseded"),
      500: json(IngestResult, "Indexing failed; retried later"),
    },
    errors: { 400: "Invalid body", 401: "Bad secret", 413: "Body too large", 415: "Not JSON" },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const result = "document_id" in body
      ? await ingestDocument(body.document_id, c.get("requestId"))
      : await indexObject({ type: body.object_type, id: body.object_id }, c.get("requestId"));
    return result.status === "failed" ? c.json(result, 500) : c.json(result, 200);
  },
);
