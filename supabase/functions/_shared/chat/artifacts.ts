// Artifacts (seed 002): files a chat tool produces (create_artifact: a generated file or a
// diff), stored in the private bucket `chat-artifacts` under the owner's folder, as the owner
// (their token: the bucket's policies apply, and account export and deletion find the objects
// by owner), with a row in `artifacts` and an `artifact` part on the reply.
//
// The file's text is not kept in the message: the tool call's stored input names the artifact
// instead (the live stream did send the text, as the model wrote it).
//
// Nothing is half-written: limits are checked before anything is stored; the object is
// uploaded first and the row written after, and if the row is refused the object is removed
// again. A row therefore always has its object. Deleting the conversation removes its files
// and rows at once (removeConversationArtifacts), so none are left for retention to orphan.
import { z } from "@hono/zod-openapi";
import { asUser, type JwtClaims, sql, type Tx } from "../db.ts";
import { ApiError, log } from "../http.ts";
import { sha256Hex } from "../inbox/refs.ts";
import { removeObjects, userStorage } from "../storage.ts";
import { type ToolContext, ToolError } from "../tool.ts";
import { decodeCursor, encodeCursor } from "../validate.ts";
import { ArtifactPart, type PartOf } from "./parts.ts";

export const ARTIFACTS_BUCKET = "chat-artifacts";

/** What a tool may store: text the model writes (the bucket takes what this list allows). */
export const ARTIFACT_MEDIA_TYPES = [
  "text/plain",
  "text/markdown",
  "text/csv",
  "text/html",
  "text/css",
  "text/javascript",
  "text/typescript",
  "text/x-python",
  "text/x-diff",
  "application/json",
  "application/xml",
  "application/yaml",
  "application/sql",
] as const;

/** The media type a file name suggests, when the tool names none. */
const BY_EXTENSION: Record<string, (typeof ARTIFACT_MEDIA_TYPES)[number]> = {
  md: "text/markdown",
  csv: "text/csv",
  html: "text/html",
  css: "text/css",
  js: "text/javascript",
  mjs: "text/javascript",
  ts: "text/typescript",
  tsx: "text/typescript",
  py: "text/x-python",
  diff: "text/x-diff",
  patch: "text/x-diff",
  json: "application/json",
  xml: "application/xml",
  yaml: "application/yaml",
  yml: "application/yaml",
  sql: "application/sql",
};

/** A relative file path: no leading slash, no "." or ".." segments, no control characters. */
const FilePath = z.string().min(1).max(255).refine(
  (p) =>
    !/[\x00-\x1f\x7f\\]/.test(p) && !p.startsWith("/") &&
    p.split("/").every((s) => s !== "" && s !== "." && s !== ".."),
  "a relative path such as report.md or src/app.ts (no leading /, no . or .. segments)",
);

export const CreateArtifactInput = z.strictObject({
  path: FilePath.describe("The file's name or relative path, e.g. report.md or src/app.ts"),
  kind: z.enum(["file", "file_diff"]).default("file")
    .describe("file: a whole file; file_diff: a unified diff against the file at path"),
  mime: z.enum(ARTIFACT_MEDIA_TYPES).optional()
    .describe("Media type; by default from the extension (a diff: text/x-diff)"),
  content: z.string().min(1).describe("The file's full text (or the diff)"),
});

export interface ArtifactRow {
  id: string;
  user_id: string;
  conversation_id: string;
  message_id: string;
  tool_call_id: string;
  kind: "file" | "file_diff";
  path: string;
  mime: string;
  size: number;
  sha256: string;
  object_path: string;
  created_at: Date;
}

/** An artifact as the API shows it (the part's fields, where it belongs, when it was made). */
export const Artifact = ArtifactPart.omit({ type: true }).extend({
  conversation_id: z.uuid(),
  message_id: z.uuid(),
  created_at: z.iso.datetime({ offset: true }),
}).openapi("Artifact");

const partOf = (row: ArtifactRow): PartOf<"artifact"> => ({
  type: "artifact",
  id: row.id,
  tool_call_id: row.tool_call_id,
  kind: row.kind,
  path: row.path,
  mime: row.mime,
  size: Number(row.size),
  sha256: row.sha256,
});

/** Named fields only: a column added for the database's own use never reaches the API. */
export const artifactJson = (row: ArtifactRow) => {
  const { type: _, ...part } = partOf(row);
  return {
    ...part,
    conversation_id: row.conversation_id,
    message_id: row.message_id,
    created_at: row.created_at,
  };
};

interface ArtifactLimits {
  max_bytes: number;
  max_per_reply: number;
  made: number;
}

/** The limits (app_settings chat.artifact_max_bytes, chat.max_artifacts_per_reply) and how many this reply made. */
async function limitsFor(messageId: string): Promise<ArtifactLimits> {
  const [row] = await sql<ArtifactLimits[]>`
    select
      coalesce((select (value #>> '{}')::int from public.app_settings
                where key = 'chat.artifact_max_bytes'), 200000) as max_bytes,
      coalesce((select (value #>> '{}')::int from public.app_settings
                where key = 'chat.max_artifacts_per_reply'), 10) as max_per_reply,
      (select count(*)::int from public.artifacts where message_id = ${messageId}) as made`;
  return row;
}

/**
 * Stores a file a tool made and records it on the reply. Refusals are ToolErrors the model
 * reads (artifact_too_large, too_many_artifacts, artifacts_unavailable, storage_failed,
 * not_saved, conversation_deleted).
 */
export async function createArtifact(
  ctx: ToolContext,
  input: z.output<typeof CreateArtifactInput>,
): Promise<Omit<PartOf<"artifact">, "type">> {
  if (!ctx.authorization) {
    throw new ToolError("artifacts_unavailable", "Files cannot be stored from here");
  }
  const bytes = new TextEncoder().encode(input.content);
  const limits = await limitsFor(ctx.messageId);
  if (limits.made >= limits.max_per_reply) {
    throw new ToolError(
      "too_many_artifacts",
      `At most ${limits.max_per_reply} files per reply`,
      { max_per_reply: limits.max_per_reply },
    );
  }
  if (bytes.byteLength > limits.max_bytes) {
    throw new ToolError(
      "artifact_too_large",
      `The file is ${bytes.byteLength} bytes; at most ${limits.max_bytes} are allowed`,
      { size: bytes.byteLength, max_bytes: limits.max_bytes },
    );
  }
  const extension = input.path.match(/\.([a-z0-9]+)$/i)?.[1].toLowerCase() ?? "";
  const mime = input.mime ??
    (input.kind === "file_diff" ? "text/x-diff" : BY_EXTENSION[extension] ?? "text/plain");
  const id = crypto.randomUUID();
  const userId = ctx.claims.sub;
  const fileName = input.path.split("/").at(-1)!.replace(/[^\w.-]+/g, "_");
  const objectPath = `${userId}/${id}/${fileName}`;
  const bucket = userStorage(ctx.authorization).from(ARTIFACTS_BUCKET);

  const { error } = await bucket.upload(objectPath, bytes, { contentType: mime, upsert: false });
  if (error) throw new ToolError("storage_failed", `The file was not stored: ${error.message}`);
  // Not into a conversation deleted while the reply was being written.
  const [row] = await sql<ArtifactRow[]>`
    insert into public.artifacts (id, user_id, conversation_id, message_id, tool_call_id, kind,
                                  path, mime, size, sha256, object_path)
    select ${id}, ${userId}, c.id, ${ctx.messageId}, ${ctx.toolCallId}, ${input.kind},
           ${input.path}, ${mime}, ${bytes.byteLength}, ${await sha256Hex(input.content)},
           ${objectPath}
    from public.conversations c where c.id = ${ctx.conversationId} and c.deleted_at is null
    returning *`.catch(async (e) => {
    log("error", "artifact row not written", { request_id: ctx.requestId, error: String(e) });
    await removeAgain(ctx, objectPath);
    throw new ToolError("not_saved", "The file could not be saved");
  });
  if (!row) {
    await removeAgain(ctx, objectPath);
    throw new ToolError("conversation_deleted", "The conversation was deleted");
  }
  const part = partOf(row);
  const { content: _text, ...stored } = input;
  ctx.artifact(part, { ...stored, mime, artifact_id: id });
  const { type: _, ...made } = part;
  return made;
}

/** Removes an object whose row was not written; a failure is logged (the object is orphaned). */
async function removeAgain(ctx: ToolContext, objectPath: string) {
  const failed = await removeObjects(ctx.authorization!, ARTIFACTS_BUCKET, [objectPath]);
  if (failed) {
    log("error", "artifact object left behind after a failed insert", {
      request_id: ctx.requestId,
      path: objectPath,
      error: failed,
    });
  }
}

/**
 * When the conversation is deleted: its files go at once, then their rows (so a row always has
 * its object). 502 storage_failed, and no row deleted, if Storage keeps any of them.
 */
export async function removeConversationArtifacts(
  claims: JwtClaims,
  authorization: string,
  conversationId: string,
) {
  const rows = await asUser(
    claims,
    (tx) =>
      tx<{ object_path: string }[]>`
      select object_path from public.artifacts where conversation_id = ${conversationId}`,
  );
  const paths = rows.map((r) => r.object_path);
  const failed = await removeObjects(authorization, ARTIFACTS_BUCKET, paths);
  if (failed) {
    throw new ApiError(
      502,
      "storage_failed",
      `The conversation's files could not be removed: ${failed}`,
    );
  }
  if (paths.length) {
    await sql`delete from public.artifacts
              where conversation_id = ${conversationId} and object_path = any(${paths})`;
  }
}

export const ListArtifacts = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});
const ArtifactCursor = z.strictObject({ id: z.uuid() });

/**
 * A page of the conversation's artifacts, oldest first, after the cursor's (as the user: RLS
 * keeps them to their own); `next_cursor` while there are more.
 */
export async function listArtifacts(
  tx: Tx,
  conversationId: string,
  { cursor, limit }: z.output<typeof ListArtifacts>,
) {
  const after = cursor ? decodeCursor(ArtifactCursor, cursor).id : null;
  const rows = await tx<ArtifactRow[]>`
    select a.* from public.artifacts a
    where a.conversation_id = ${conversationId}
      and (${after}::uuid is null or (a.created_at, a.id) > (
        select b.created_at, b.id from public.artifacts b
        where b.id = ${after}::uuid and b.conversation_id = ${conversationId}))
    order by a.created_at, a.id
    limit ${limit + 1}`;
  const page = rows.slice(0, limit);
  return {
    artifacts: page.map(artifactJson),
    next_cursor: rows.length > limit ? encodeCursor({ id: page.at(-1)!.id }) : null,
  };
}

/** One artifact of the conversation, as the user; 404 for anyone else's, or once it is deleted. */
export async function findArtifact(tx: Tx, conversationId: string, artifactId: string) {
  const [row] = await tx<ArtifactRow[]>`
    select a.* from public.artifacts a
    join public.conversations c on c.id = a.conversation_id and c.deleted_at is null
    where a.id = ${artifactId} and a.conversation_id = ${conversationId}`;
  if (!row) throw new ApiError(404, "not_found", "Artifact not found");
  return row;
}

/** The artifact's bytes from Storage, read as the user. */
export async function artifactBytes(authorization: string, row: ArtifactRow) {
  const { data, error } = await userStorage(authorization).from(ARTIFACTS_BUCKET)
    .download(row.object_path);
  if (error || !data) {
    throw new ApiError(502, "storage_failed", "The file could not be read from Storage");
  }
  return new Uint8Array(await data.arrayBuffer());
}
