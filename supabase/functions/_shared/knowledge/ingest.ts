// Ingesting one document: claim its job, chunk, embed in batches, and write all chunks in one
// transaction. A failure backs the job off for the sweeper to retry, and dead-letters it after
// the last attempt with the error on the document (at once past the user's budget). Unchanged content is never embedded again.
import { sql } from "../db.ts";
import { ApiError, log } from "../http.ts";
import { chunkText } from "./chunk.ts";
import { embedFor } from "./embeddings.ts";
import { type IndexedObject, pgVectorStore } from "./vector_store.ts";

export type IngestResult =
  | { status: "skipped" } // not due, already taken, or gone
  | { status: "ready"; chunks: number }
  | { status: "superseded" } // the content changed while we worked; a new job is queued
  | { status: "failed"; job: string; error: string };

interface DocumentRow {
  id: string;
  owner_id: string;
  kind: string;
  content: string;
  content_hash: string;
  indexed_hash: string | null;
}

export async function ingestDocument(
  documentId: string,
  requestId?: string,
): Promise<IngestResult> {
  const [job] =
    await sql`select document_id from private.claim_ingestion(${documentId}) where document_id is not null`;
  if (!job) return { status: "skipped" };
  try {
    const [doc] = await sql<DocumentRow[]>`
      select id, owner_id, kind, content, content_hash, indexed_hash from public.documents where id = ${documentId}`;
    if (!doc) return { status: "skipped" };
    const texts = chunkText(doc.content, doc.kind);
    const vectors = texts.length ? await embedFor(doc.owner_id, texts, requestId) : [];
    const stored = await pgVectorStore.replaceDocumentChunks(
      doc.id,
      doc.content_hash,
      texts.map((content, i) => ({ content, embedding: vectors[i] })),
    );
    return stored ? { status: "ready", chunks: texts.length } : { status: "superseded" };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    // A spent budget does not come back by retrying: the document ends `error` at once.
    const budget = e instanceof ApiError && e.code === "budget_exceeded";
    const [row] = await sql<{ state: string }[]>`
      select private.fail_ingestion(${documentId}, ${error},
        ${budget ? "budget_exceeded" : "ingestion_failed"}, ${budget}) as state`;
    log("warn", "ingestion failed", { document_id: documentId, job: row.state, error });
    return { status: "failed", job: row.state, error };
  }
}

/**
 * Indexing an inbox object (event, note, thread) follows the same steps through its own job
 * (public.index_jobs): claim, chunk, embed, store in one transaction, back off on failure.
 */
export async function indexObject(
  object: IndexedObject,
  requestId?: string,
): Promise<IngestResult> {
  const [job] = await sql`
    select object_id from private.claim_index(${object.type}, ${object.id}) where object_id is not null`;
  if (!job) return { status: "skipped" };
  try {
    const [source] = await sql<{ owner_id: string; content: string; content_hash: string }[]>`
      select owner_id, content, content_hash from private.index_source(${object.type}, ${object.id})`;
    if (!source) {
      await sql`delete from public.index_jobs where object_type = ${object.type} and object_id = ${object.id}`;
      return { status: "skipped" };
    }
    const texts = chunkText(source.content, "document");
    const vectors = texts.length ? await embedFor(source.owner_id, texts, requestId) : [];
    const stored = await pgVectorStore.replaceObjectChunks(
      object,
      source.content_hash,
      texts.map((content, i) => ({ content, embedding: vectors[i] })),
    );
    return stored ? { status: "ready", chunks: texts.length } : { status: "superseded" };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    const [row] = await sql<{ state: string }[]>`
      select private.fail_index(${object.type}, ${object.id}, ${error}) as state`;
    log("warn", "indexing failed", {
      object_type: object.type,
      object_id: object.id,
      job: row.state,
      error,
    });
    return { status: "failed", job: row.state, error };
  }
}
