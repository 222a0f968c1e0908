// The documents API: create (JSON text or markdown), list with title search for @mention
// autocomplete, get, patch (title, visibility, content, grants), delete, hybrid search, and a
// signed webhook for meeting recorders to push transcripts. See README "Knowledge".
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { enforceRateLimit, limitWrites } from "../_shared/limits.ts";
import { asUser, jsonb, sql, type Tx } from "../_shared/db.ts";
import { createApp } from "../_shared/app.ts";
import { ApiError, log, readBody } from "../_shared/http.ts";
import { describedJsonBody, json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";
import { searchKnowledge } from "../_shared/knowledge/search.ts";
import { constantTimeEqual, hmacSha256Hex, vaultSecret } from "../_shared/secrets.ts";
import { userStorage } from "../_shared/storage.ts";
import { readUpload } from "./upload.ts";
import { containsPattern, decodeCursor, encodeCursor, parse } from "../_shared/validate.ts";

export const app = createApp<AuthedEnv>("documents");
type C = Context<AuthedEnv>;

/** Largest document text, as stored (also the database's limit). */
export const MAX_CONTENT_BYTES = 2_000_000;
const MAX_BODY_BYTES = MAX_CONTENT_BYTES + 100_000;
const WEBHOOK_WINDOW_SECONDS = 300;

const kind = z.enum(["transcript", "document", "note"]);
const visibility = z.enum(["private", "shared"]);
const title = z.string().trim().min(1).max(300);
const content = z.string().refine(
  (s) => new TextEncoder().encode(s).length <= MAX_CONTENT_BYTES,
  `at most ${MAX_CONTENT_BYTES} bytes`,
);
const metadata = z.record(z.string(), z.unknown()).refine(
  (m) => JSON.stringify(m).length <= 20_000,
  "at most 20,000 characters of JSON",
);

const CreateDocument = z.strictObject({
  kind: kind.default("document"),
  title,
  content,
  visibility: visibility.default("private"),
  source: z.string().min(1).max(100).optional(),
  source_id: z.string().min(1).max(300).optional(),
  occurred_at: z.iso.datetime({ offset: true }).optional(),
  metadata: metadata.optional(),
});

const UpdateDocument = z.strictObject({
  title: title.optional(),
  visibility: visibility.optional(),
  content: content.optional(),
  metadata: metadata.optional(),
  grants: z.strictObject({
    add: z.array(z.uuid()).max(100).default([]),
    remove: z.array(z.uuid()).max(100).default([]),
  }).optional(),
}).refine((b) => Object.keys(b).length > 0, "Send at least one field to change");

const ListDocuments = z.strictObject({
  kind: kind.optional(),
  q: z.string().trim().min(1).max(200).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(30),
});
const ListCursor = z.strictObject({ t: z.iso.datetime({ offset: true }), id: z.uuid() });

const csv = <T extends z.ZodType<unknown, string>>(item: T, max: number) =>
  z.string().transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean)).pipe(
    z.array(item).min(1).max(max),
  );

const SearchQuery = z.strictObject({
  q: z.string().trim().min(1).max(1000),
  kinds: csv(kind, 3).optional(),
  sources: csv(z.string().max(100), 20).optional(),
  documents: csv(z.uuid(), 100).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(10),
});

const TranscriptWebhook = z.strictObject({
  transcript_id: z.string().min(1).max(300),
  title,
  owner_email: z.email(),
  occurred_at: z.iso.datetime({ offset: true }).optional(),
  visibility: visibility.default("shared"),
  text: z.string().min(1).optional(),
  segments: z.array(z.strictObject({
    speaker: z.string().min(1).max(200),
    text: z.string().min(1),
    start: z.number().min(0).optional(),
  })).min(1).max(20_000).optional(),
  metadata: metadata.optional(),
}).refine(
  (b) => (b.text === undefined) !== (b.segments === undefined),
  "Send either text or segments",
);

interface DocumentRow {
  id: string;
  owner_id: string;
  kind: "transcript" | "document" | "note";
  title: string;
  visibility: "private" | "shared";
  source: string | null;
  source_id: string | null;
  occurred_at: Date | null;
  metadata: Record<string, unknown>;
  mime_type: string | null;
  size_bytes: number | null;
  status: string;
  error: string | null;
  error_code: string | null;
  chunk_count: number;
  created_at: Date;
  updated_at: Date;
  content?: string;
  grants?: string[];
  ingestion?: z.infer<typeof Ingestion> | null;
}

const timestamp = z.iso.datetime({ offset: true });
const Ingestion = z.object({
  status: z.string(),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  next_run_at: z.string().nullable(),
});

const Document = z.object({
  id: z.uuid(),
  kind,
  title: z.string(),
  visibility,
  is_owner: z.boolean(),
  source: z.string().nullable(),
  source_id: z.string().nullable(),
  occurred_at: timestamp.nullable(),
  metadata: z.record(z.string(), z.unknown()),
  mime_type: z.string().nullable(),
  size_bytes: z.number().int().nullable(),
  status: z.string(),
  error: z.string().nullable(),
  error_code: z.string().nullable(),
  chunk_count: z.number().int(),
  created_at: timestamp,
  updated_at: timestamp,
  /** On GET /documents/{id}. */
  content: z.string().optional(),
  /** To the owner: who else may read it. */
  grants: z.array(z.uuid()).optional(),
  /** To the owner: the indexing job. */
  ingestion: Ingestion.nullable().optional(),
}).openapi("Document");

const DOCUMENT_COLUMNS =
  `d.id, d.owner_id, d.kind, d.title, d.visibility, d.source, d.source_id, d.occurred_at,
  d.metadata, d.mime_type, d.size_bytes, d.status, d.error, d.error_code, d.chunk_count, d.created_at,
  d.updated_at`;

function documentJson(r: DocumentRow, userId: string) {
  const owner = r.owner_id === userId;
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    visibility: r.visibility,
    is_owner: owner,
    source: r.source,
    source_id: r.source_id,
    occurred_at: r.occurred_at,
    metadata: r.metadata,
    mime_type: r.mime_type,
    size_bytes: r.size_bytes,
    status: r.status,
    error: r.error,
    error_code: r.error_code,
    chunk_count: r.chunk_count,
    created_at: r.created_at,
    updated_at: r.updated_at,
    ...(r.content !== undefined ? { content: r.content } : {}),
    ...(owner && r.grants !== undefined ? { grants: r.grants } : {}),
    ...(owner && r.ingestion !== undefined ? { ingestion: r.ingestion } : {}),
  };
}

async function readableDocument(tx: Tx, id: string, withContent = false) {
  const [row] = await tx.unsafe<DocumentRow[]>(
    `select ${DOCUMENT_COLUMNS}${withContent ? ", d.content" : ""},
       (select coalesce(jsonb_agg(g.user_id order by g.granted_at), '[]') from public.document_grants g
        where g.document_id = d.id) as grants,
       (select jsonb_build_object('status', j.status, 'attempts', j.attempts, 'last_error', j.last_error,
                                  'next_run_at', j.next_run_at)
        from public.ingestion_jobs j where j.document_id = d.id) as ingestion
     from public.documents d where d.id = $1`,
    [id],
  );
  if (!row) throw new ApiError(404, "not_found", "Document not found");
  return row;
}

/** The document, if the caller owns it: 404 if they cannot see it, 403 if they only read it. */
async function ownedDocument(tx: Tx, id: string, userId: string) {
  const row = await readableDocument(tx, id);
  if (row.owner_id !== userId) {
    throw new ApiError(403, "forbidden", "Only the document's owner can change it");
  }
  return row;
}

// --- Transcript webhook (signed, no user JWT) ---------------------------------------------------
// The body is checked here, after the signature over its raw bytes: the route's schema only
// describes it (a plain JSON Schema, which the router does not validate).
const WebhookResult = z.object({
  status: z.enum(["created", "duplicate"]),
  document_id: z.uuid(),
}).openapi("TranscriptReceived");

app.openapi(
  route({
    method: "post",
    path: "/webhook",
    summary: "A meeting recorder pushes a transcript (signed)",
    auth: "signature",
    request: { body: describedJsonBody(TranscriptWebhook) },
    responses: {
      200: json(WebhookResult, "Already received (idempotent)"),
      201: json(WebhookResult, "Stored"),
    },
    errors: {
      400: "Invalid body",
      401: "Bad or expired signature",
      413: "Body too large",
      422: "Unknown owner",
    },
  }),
  async (c) => {
    // The headers first: an unsigned or stale request is refused before its body is read.
    const timestamp = c.req.header("x-aide-timestamp") ?? "";
    const signature = c.req.header("x-aide-signature")?.replace(/^v1=/, "") ?? "";
    const age = Math.abs(Date.now() / 1000 - Number(timestamp));
    if (!/^\d+$/.test(timestamp) || !(age <= WEBHOOK_WINDOW_SECONDS)) {
      throw new ApiError(401, "invalid_signature", "Missing or expired x-aide-timestamp");
    }
    if (!/^[0-9a-f]{64}$/i.test(signature)) {
      throw new ApiError(401, "invalid_signature", "Missing or malformed x-aide-signature");
    }
    const secret = await vaultSecret("aide_transcript_webhook_secret");
    if (!secret) throw new ApiError(401, "invalid_signature", "Webhooks are not configured");
    const raw = await readBody(c.req.raw, MAX_BODY_BYTES);
    const signed = new Uint8Array([...new TextEncoder().encode(`${timestamp}.`), ...raw]);
    if (!(await constantTimeEqual(signature, await hmacSha256Hex(secret, signed)))) {
      throw new ApiError(401, "invalid_signature", "The x-aide-signature does not match the body");
    }
    let payload: unknown;
    try {
      payload = JSON.parse(new TextDecoder().decode(raw));
    } catch {
      throw new ApiError(400, "invalid_json", "The body is not valid JSON");
    }
    const body = parse(TranscriptWebhook, payload, "body");
    const text = body.text ?? body.segments!.map((s) => `${s.speaker}: ${s.text}`).join("\n");
    parse(content, text, "transcript text");

    // Only an account that may use Aide (confirmed email, allowed domain) can own a transcript.
    const [owner] = await sql<{ id: string }[]>`select id from auth.users
                            where lower(email) = lower(${body.owner_email})
                              and private.account_access(id) = 'allowed'`;
    if (!owner) {
      throw new ApiError(422, "unknown_owner", "No confirmed user has the owner_email address");
    }
    // Idempotent by the sender's transcript id: a redelivery changes nothing.
    const [created] = await sql<{ id: string }[]>`
    insert into public.documents (owner_id, kind, title, visibility, content, source, source_id, occurred_at, metadata)
    values (${owner.id}, 'transcript', ${body.title}, ${body.visibility}, ${text}, 'webhook', ${body.transcript_id},
            ${body.occurred_at ?? null}, ${jsonb(body.metadata ?? {})})
    on conflict (owner_id, source, source_id) do nothing
    returning id`;
    if (created) return c.json({ status: "created" as const, document_id: created.id }, 201);
    const [existing] = await sql<{ id: string }[]>`select id from public.documents
                               where owner_id = ${owner.id} and source = 'webhook' and source_id = ${body.transcript_id}`;
    return c.json({ status: "duplicate" as const, document_id: existing.id }, 200);
  },
);

// --- User routes ----------------------------------------------------------------------------------
app.use("*", requireUser);
app.use("*", limitWrites()); // per-user rate limit, class "write"
const me = (c: C) => c.get("user");

const Id = uuidParams("id");
const DocumentPage = z.object({
  documents: z.array(Document),
  next_cursor: z.string().nullable(),
}).openapi("DocumentPage");

app.openapi(
  route({
    method: "get",
    path: "/",
    summary: "Documents the caller may read; title search for @mentions",
    auth: "user",
    request: { query: ListDocuments },
    responses: { 200: json(DocumentPage, "A page of documents") },
    errors: { 400: "Bad query or cursor" },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const cursor = q.cursor ? decodeCursor(ListCursor, q.cursor) : null;
    const pattern = q.q ? containsPattern(q.q) : null;
    const rows = await asUser(me(c).claims, (tx) =>
      tx.unsafe<DocumentRow[]>(
        `select ${DOCUMENT_COLUMNS} from public.documents d
       where ($1::text is null or d.kind = $1)
         and ($2::text is null or d.title ilike $2)
         and ($3::timestamptz is null or (d.created_at, d.id) < ($3, $4::uuid))
       order by d.created_at desc, d.id desc
       limit $5`,
        [q.kind ?? null, pattern, cursor?.t ?? null, cursor?.id ?? null, q.limit + 1],
      ));
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return c.json({
      documents: page.map((r) => documentJson(r, me(c).id)),
      next_cursor: rows.length > q.limit && last
        ? encodeCursor({ t: new Date(last.created_at).toISOString(), id: last.id })
        : null,
    }, 200);
  },
);

const UploadFields = z.strictObject({
  title: title.optional(),
  kind: kind.default("document"),
  visibility: visibility.default("private"),
});

/** The documents bucket, as the calling user: its policies keep each user to their own folder. */
const documentsBucket = (c: C) => userStorage(c.req.header("authorization")!).from("documents");

/**
 * Removes stored files as the user. Storage answers with the objects it removed, and leaves
 * out what it could not (e.g. what the bucket's policies refuse) without an error, so a path
 * missing from its answer that still exists is a failure too.
 */
async function removeFiles(c: C, paths: string[]) {
  const { data, error } = await documentsBucket(c).remove(paths);
  if (error) return error.message;
  const removed = new Set((data ?? []).map((o) => o.name));
  for (const path of paths.filter((p) => !removed.has(p))) {
    const { error: gone } = await documentsBucket(c).download(path);
    if (!gone) return `Storage did not remove ${path}`;
  }
  return null;
}

/**
 * POST /documents with multipart/form-data: the file goes to Storage first, then the document
 * row is written in a short transaction (no transaction waits on Storage); if that fails, the
 * file is removed again, so a failed upload leaves neither a document nor a file behind.
 */
async function upload(c: C) {
  const file = await readUpload(c.req.raw);
  const fields = parse(UploadFields, file.fields, "form fields");
  parse(content, file.text, "file text");
  const user = me(c);
  const id = crypto.randomUUID();
  const path = `${user.id}/${id}/${file.filename.replace(/[^\w.-]+/g, "_")}`;
  const { error } = await documentsBucket(c).upload(path, file.bytes, {
    contentType: file.mimeType,
  });
  if (error) {
    throw new ApiError(502, "storage_failed", `The file could not be stored: ${error.message}`);
  }
  try {
    const row = await asUser(user.claims, async (tx) => {
      await tx`
        insert into public.documents (id, kind, title, visibility, content, source, storage_path,
                                      mime_type, size_bytes)
        values (${id}, ${fields.kind}, ${fields.title ?? file.filename.replace(/\.[^.]+$/, "")},
                ${fields.visibility}, ${file.text}, 'upload', ${path}, ${file.mimeType},
                ${file.bytes.byteLength})`;
      return await readableDocument(tx, id);
    });
    return c.json(documentJson(row, user.id), 201);
  } catch (e) {
    const failed = await removeFiles(c, [path]).catch((r) => String(r));
    if (failed) {
      log("error", "uploaded file left behind after a failed insert", {
        request_id: c.get("requestId"),
        path,
        error: failed,
      });
    }
    throw e;
  }
}

/** A multipart POST is an upload, answered here; a JSON one goes on to the route. */
const uploads = createMiddleware<AuthedEnv>(async (c, next) => {
  if (/^multipart\/form-data/i.test(c.req.header("content-type") ?? "")) return await upload(c);
  await next();
});

app.openapi(
  route({
    method: "post",
    path: "/",
    summary: "Create a document from text (JSON) or a file (multipart)",
    auth: "user",
    middleware: [uploads],
    bodyLimit: MAX_BODY_BYTES,
    request: {
      body: {
        required: true,
        content: {
          "application/json": { schema: CreateDocument },
          // Answered by the `uploads` middleware: described here, never validated by the router.
          "multipart/form-data": {
            schema: {
              ...z.toJSONSchema(UploadFields, { io: "input" }),
              properties: {
                file: { type: "string", format: "binary" },
                ...z.toJSONSchema(UploadFields, { io: "input" }).properties,
              },
              required: ["file"],
            } as Record<string, unknown> as { type: "object" },
          },
        },
      },
    },
    responses: { 201: json(Document, "The document (indexing follows)") },
    errors: {
      403: "Document quota reached (quota_exceeded)",
      409: "Duplicate source_id",
      413: "Too large",
      415: "Unsupported file or content type",
      422: "Unreadable file",
      502: "Storage failed",
    },
  }),
  async (c) => {
    // Validated by the route's JSON schema (the multipart one is only described, so Hono's types
    // cannot name the JSON target; a multipart body never gets here, see `uploads`).
    const body = c.req.valid("json" as never) as z.output<typeof CreateDocument>;
    const row = await asUser(me(c).claims, async (tx) => {
      const [created] = await tx<{ id: string }[]>`
      insert into public.documents (kind, title, visibility, content, source, source_id, occurred_at, metadata)
      values (${body.kind}, ${body.title}, ${body.visibility}, ${body.content}, ${
        body.source ?? null
      },
              ${body.source_id ?? null}, ${body.occurred_at ?? null}, ${jsonb(body.metadata ?? {})})
      on conflict (owner_id, source, source_id) do nothing
      returning id`;
      if (!created) {
        throw new ApiError(
          409,
          "conflict",
          "You already have a document with this source and source_id",
        );
      }
      return await readableDocument(tx, created.id);
    });
    return c.json(documentJson(row, me(c).id), 201);
  },
);

const SearchResults = z.object({
  results: z.array(z.object({
    document_id: z.uuid().nullable(),
    title: z.string().nullable(),
    chunk_index: z.number().int(),
    snippet: z.string(),
    content: z.string(),
    source: z.string().nullable(),
    occurred_at: timestamp.nullable(),
    scores: z.object({
      score: z.number(),
      full_text_rank: z.number().int().nullable(),
      semantic_rank: z.number().int().nullable(),
    }),
  })),
}).openapi("SearchResults");

app.openapi(
  route({
    method: "get",
    path: "/search",
    summary: "Hybrid search over what the caller may read",
    auth: "user",
    request: { query: SearchQuery },
    responses: { 200: json(SearchResults, "Matching chunks with scores") },
    errors: { 400: "Bad query", 402: "Monthly budget spent", 429: "Too many searches" },
  }),
  async (c) => {
    const q = c.req.valid("query");
    await enforceRateLimit(me(c).id, "search"); // every search embeds its query
    const hits = await searchKnowledge(me(c).claims, q.q, {
      limit: q.limit,
      requestId: c.get("requestId"),
      filters: {
        objectTypes: ["document_chunk"],
        sources: q.sources,
        documentIds: q.documents,
        documentKinds: q.kinds,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
      },
    });
    return c.json({
      results: hits.map((h) => ({
        document_id: h.documentId,
        title: h.title,
        chunk_index: h.chunkIndex,
        snippet: h.snippet,
        content: h.content,
        source: h.source,
        occurred_at: h.occurredAt,
        scores: { score: h.score, full_text_rank: h.fullTextRank, semantic_rank: h.semanticRank },
      })),
    }, 200);
  },
);

app.openapi(
  route({
    method: "get",
    path: "/{id}",
    summary: "A document with its status and text",
    auth: "user",
    request: { params: Id },
    responses: { 200: json(Document, "The document") },
    errors: { 400: "Bad id", 404: "Not found" },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const row = await asUser(me(c).claims, (tx) => readableDocument(tx, id, true));
    return c.json(documentJson(row, me(c).id), 200);
  },
);

app.openapi(
  route({
    method: "patch",
    path: "/{id}",
    summary: "Change title, visibility, text, metadata, grants (owner)",
    auth: "user",
    bodyLimit: MAX_BODY_BYTES,
    request: { params: Id, body: jsonBody(UpdateDocument) },
    responses: { 200: json(Document, "The document") },
    errors: {
      403: "Not the owner, or document quota reached",
      404: "Not found",
      413: "Too large",
      422: "Unknown user to grant",
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const row = await asUser(me(c).claims, async (tx) => {
      const current = await ownedDocument(tx, id, me(c).id);
      await tx`update public.documents set
               title = ${body.title ?? current.title},
               visibility = ${body.visibility ?? current.visibility},
               metadata = ${jsonb(body.metadata ?? current.metadata)}
             where id = ${id}`;
      // Only a real change of text re-indexes the document.
      if (body.content !== undefined) {
        await tx`update public.documents set content = ${body.content} where id = ${id}`;
      }
      if (body.grants?.add.length) {
        // Other users' profiles are not readable: grants are by user id, the foreign key checks it.
        await tx`insert into public.document_grants (document_id, user_id)
               select ${id}, unnest(${body.grants.add}::uuid[]) on conflict do nothing`.catch(
          (e) => {
            if (e.code === "23503") {
              throw new ApiError(422, "unknown_user", "A user to grant does not exist");
            }
            throw e;
          },
        );
      }
      if (body.grants?.remove.length) {
        await tx`delete from public.document_grants where document_id = ${id} and user_id = any(${body.grants.remove}::uuid[])`;
      }
      return await readableDocument(tx, id);
    });
    return c.json(documentJson(row, me(c).id), 200);
  },
);

// The file goes first: if Storage cannot remove it, the document stays (502, nothing changed)
// and the caller can try again; a file is never left behind without its document.
app.openapi(
  route({
    method: "delete",
    path: "/{id}",
    summary: "Delete a document, its chunks and file (owner)",
    auth: "user",
    request: { params: Id },
    responses: { 204: { description: "Deleted" } },
    errors: {
      400: "Bad id",
      403: "Not the owner",
      404: "Not found",
      502: "The stored file could not be removed; nothing was deleted",
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const path = await asUser(me(c).claims, async (tx) => {
      await ownedDocument(tx, id, me(c).id);
      const [d] = await tx<{ storage_path: string | null }[]>`
      select storage_path from public.documents where id = ${id}`;
      return d.storage_path;
    });
    if (path) {
      const failed = await removeFiles(c, [path]);
      if (failed) {
        throw new ApiError(
          502,
          "storage_failed",
          `The stored file could not be removed: ${failed}`,
        );
      }
    }
    // Its chunks, grants and ingestion job go with it (foreign keys).
    await asUser(me(c).claims, (tx) => tx`delete from public.documents where id = ${id}`);
    return c.body(null, 204);
  },
);
