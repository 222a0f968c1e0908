// Share links, read without signing in: GET /shared/:token answers the read-only copy a user
// made with POST /conversations/:id/share. The token is the only proof, so the platform's JWT
// check is off for this function (supabase/config.toml). See README "Feedback, export and share
// links".
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { limitByClient } from "../_shared/limits.ts";
import { ApiError, downloadHeaders } from "../_shared/http.ts";
import { json, route } from "../_shared/openapi.ts";
import { findSharedFile, readShare } from "../_shared/chat/shares.ts";
import { readObjectAsService } from "../_shared/storage.ts";
import { SharedConversation } from "../_shared/chat/schemas.ts";

export const app = createApp("shared");
// Before the token is looked at: guessing tokens is what this limit is for.
app.use("*", limitByClient("shared"));

app.openapi(
  route({
    method: "get",
    path: "/{token}",
    summary: "A shared conversation (no sign-in: the token is the proof)",
    auth: "public",
    request: { params: z.strictObject({ token: z.string().max(100) }) },
    responses: { 200: json(SharedConversation, "The conversation as it was when shared") },
    errors: {
      400: "Bad token",
      404: "Unknown or revoked share",
      429: "Too many requests from this address (rate_limited, Retry-After)",
    },
  }),
  async (c) => {
    const shared = await readShare(c.req.valid("param").token);
    c.header("cache-control", "private, no-store");
    return c.json(shared, 200);
  },
);

app.openapi(
  route({
    method: "get",
    path: "/{token}/files/{fileId}",
    summary: "A file of a share made with include_attachments (an attachment or an artifact)",
    description: "The `url` of a shared attachment or artifact part. It works exactly as long " +
      "as the share does (revoking it ends its files too) and reaches only files the frozen " +
      "copy names.",
    auth: "public",
    request: { params: z.strictObject({ token: z.string().max(100), fileId: z.uuid() }) },
    responses: {
      200: {
        description: "The file's bytes, with its media type; ETag is its sha256",
        content: {
          "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
        },
      },
    },
    errors: {
      400: "Bad token or id",
      404: "Unknown or revoked share, or not one of its files",
      429: "Too many requests from this address (rate_limited, Retry-After)",
      502: "Storage did not return the file",
    },
  }),
  async (c) => {
    const { token, fileId } = c.req.valid("param");
    const file = await findSharedFile(token, fileId);
    const object = await readObjectAsService(file.bucket, file.object_path);
    if (!object.ok || !object.body) {
      await object.body?.cancel();
      throw new ApiError(502, "storage_failed", "Storage did not return the file");
    }
    return new Response(object.body, {
      headers: downloadHeaders(file.media_type, file.filename, file.sha256),
    });
  },
);
