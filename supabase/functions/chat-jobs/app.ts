// Function `chat-jobs`: the chat module's scheduled work that needs Storage, which SQL cannot
// reach on a hosted project. Called by the database through pg_net (private.post_to_function)
// with the Vault secret `aide_webhook_secret`, never by users; the secret is checked first.
//   POST /chat-jobs/unsent-uploads {ids}      remove uploads no message named (step unsent_uploads)
//   POST /chat-jobs/deleted-artifacts {ids}   remove the artifacts of conversations retention is
//                                             purging (step deleted_artifacts)
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { json, jsonBody, route } from "../_shared/openapi.ts";
import { requireWebhookSecret } from "../_shared/secrets.ts";
import { removePurgeableArtifacts, removeUnsentUploads } from "../_shared/chat/sweeps.ts";

export const app = createApp("chat-jobs");

const SweepIds = z.strictObject({ ids: z.array(z.uuid()).min(1).max(1000) });
const SweepResult = z.object({
  /** Files removed from Storage, with their rows. */
  removed: z.number().int(),
  /** Ids left alone: no longer matching the rule (e.g. sent since), already gone, or Storage failed (found again later). */
  kept: z.number().int(),
}).openapi("FileSweep");

app.openapi(
  route({
    method: "post",
    path: "/unsent-uploads",
    summary: "Remove stale uploads no message named (called by the recovery job)",
    auth: "secret",
    middleware: [requireWebhookSecret],
    request: { body: jsonBody(SweepIds) },
    responses: { 200: json(SweepResult, "What was removed and what was kept") },
    errors: { 400: "Invalid body", 401: "Bad secret", 413: "Body too large", 415: "Not JSON" },
  }),
  async (c) => c.json(await removeUnsentUploads(c.req.valid("json").ids), 200),
);

app.openapi(
  route({
    method: "post",
    path: "/deleted-artifacts",
    summary:
      "Remove the artifacts of conversations retention is purging (called by the recovery job)",
    auth: "secret",
    middleware: [requireWebhookSecret],
    request: { body: jsonBody(SweepIds) },
    responses: { 200: json(SweepResult, "What was removed and what was kept") },
    errors: { 400: "Invalid body", 401: "Bad secret", 413: "Body too large", 415: "Not JSON" },
  }),
  async (c) => c.json(await removePurgeableArtifacts(c.req.valid("json").ids), 200),
);
