// The files chat tools made in a conversation (artifacts): list them, download one. Owner only:
// the rows are read as the user (RLS) and the bytes from Storage with the user's token. See
// README "Artifacts".
import { z } from "@hono/zod-openapi";
import type { createApp } from "../_shared/app.ts";
import type { AuthedEnv } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { downloadHeaders } from "../_shared/http.ts";
import { json, route, uuidParams } from "../_shared/openapi.ts";
import { findConversation } from "../_shared/chat/conversations.ts";
import {
  Artifact,
  artifactBytes,
  findArtifact,
  ListArtifacts,
  listArtifacts,
} from "../_shared/chat/artifacts.ts";

const ArtifactList = z.object({
  artifacts: z.array(Artifact),
  next_cursor: z.string().nullable(),
}).openapi("ArtifactList");

/** The header value of a file name: ASCII fallback plus the UTF-8 name (RFC 6266). */
export function artifactRoutes(app: ReturnType<typeof createApp<AuthedEnv>>) {
  app.openapi(
    route({
      method: "get",
      path: "/{id}/artifacts",
      summary: "The files chat tools made in the conversation, oldest first, a page at a time",
      auth: "user",
      request: { params: uuidParams("id"), query: ListArtifacts },
      responses: { 200: json(ArtifactList, "A page of the conversation's artifacts") },
      errors: { 400: "Bad id, limit or cursor", 404: "Not found" },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const page = await asUser(c.get("user").claims, async (tx) => {
        await findConversation(tx, id);
        return await listArtifacts(tx, id, c.req.valid("query"));
      });
      return c.json(page, 200);
    },
  );

  app.openapi(
    route({
      method: "get",
      path: "/{id}/artifacts/{artifactId}",
      summary: "Download a file a chat tool made (Content-Disposition: attachment)",
      auth: "user",
      request: { params: uuidParams("id", "artifactId") },
      responses: {
        200: {
          description: "The file's bytes, with its media type; ETag is its sha256",
          content: {
            "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
          },
        },
      },
      errors: { 400: "Bad id", 404: "Not found", 502: "Storage did not return the file" },
    }),
    async (c) => {
      const { id, artifactId } = c.req.valid("param");
      const row = await asUser(c.get("user").claims, (tx) => findArtifact(tx, id, artifactId));
      const bytes = await artifactBytes(c.req.header("authorization")!, row);
      return new Response(bytes, {
        headers: downloadHeaders(`${row.mime}; charset=utf-8`, row.path, row.sha256),
      });
    },
  );
}
