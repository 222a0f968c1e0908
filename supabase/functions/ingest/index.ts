// POST /functions/v1/ingest {document_id}: called by the database (trigger and sweeper, through
// pg_net) with the Vault secret `aide_webhook_secret`, never by users.
import { z } from "zod";
import { createApp } from "../_shared/http.ts";
import { ingestDocument } from "../_shared/knowledge/ingest.ts";
import { requireBearerSecret } from "../_shared/secrets.ts";
import { jsonBody } from "../_shared/validate.ts";

const app = createApp("ingest");

app.post("/", async (c) => {
  await requireBearerSecret(c.req.raw, "aide_webhook_secret");
  const { document_id } = await jsonBody(c, z.strictObject({ document_id: z.uuid() }));
  const result = await ingestDocument(document_id, c.get("requestId"));
  return c.json(result, result.status === "failed" ? 500 : 200);
});

Deno.serve(app.fetch);
