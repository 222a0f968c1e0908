// The search index behind one interface, so that another vector database could replace
// pgvector without touching callers. The pgvector implementation calls public.hybrid_search
// as the user (RLS decides what they may find) and writes chunks through private.store_chunks.
import { asUser, jsonb, type JwtClaims, sql } from "../db.ts";

export interface SearchFilters {
  objectTypes?: string[];
  sources?: string[];
  documentIds?: string[];
  /** Kinds of documents (transcript, document, note) whose chunks may match. */
  documentKinds?: string[];
  from?: Date;
  to?: Date;
}

export interface SearchQuery {
  text: string;
  embedding: number[];
  limit: number;
  filters?: SearchFilters;
  weights?: { fullText?: number; semantic?: number };
}

export interface SearchHit {
  id: number;
  objectType: string;
  objectId: string;
  documentId: string | null;
  chunkIndex: number;
  title: string | null;
  content: string;
  snippet: string;
  source: string | null;
  occurredAt: Date | null;
  fullTextRank: number | null;
  semanticRank: number | null;
  score: number;
}

export interface Chunk {
  content: string;
  embedding: number[];
}

export interface VectorStore {
  /** Hybrid search over what `user` may read. */
  search(user: JwtClaims, query: SearchQuery): Promise<SearchHit[]>;
  /** Replaces a document's chunks if its content still has `contentHash`; false if it changed. */
  replaceDocumentChunks(documentId: string, contentHash: string, chunks: Chunk[]): Promise<boolean>;
  /** The same for an inbox object (event, note, thread), through private.store_object_chunks. */
  replaceObjectChunks(
    object: IndexedObject,
    contentHash: string,
    chunks: Chunk[],
  ): Promise<boolean>;
}

/** Everything searchable besides documents: inbox events, notes and threads. */
export type IndexedObjectType = "event" | "note" | "thread";
export interface IndexedObject {
  type: IndexedObjectType;
  id: string;
}

const vectorLiteral = (v: number[]) => `[${v.join(",")}]`;

export const pgVectorStore: VectorStore = {
  search(user, q) {
    const f = q.filters ?? {};
    return asUser(user, async (tx) => {
      const rows = await tx`
        select * from public.hybrid_search(
          query_text => ${q.text},
          query_embedding => ${vectorLiteral(q.embedding)}::extensions.vector,
          match_count => ${q.limit}::int,
          object_types => ${f.objectTypes ?? null}::text[],
          sources => ${f.sources ?? null}::text[],
          document_ids => ${f.documentIds ?? null}::uuid[],
          occurred_from => ${f.from ?? null}::timestamptz,
          occurred_to => ${f.to ?? null}::timestamptz,
          full_text_weight => ${q.weights?.fullText ?? 1}::float,
          semantic_weight => ${q.weights?.semantic ?? 1}::float,
          document_kinds => ${f.documentKinds ?? null}::text[])`;
      return rows.map((r) => ({
        id: r.id,
        objectType: r.object_type,
        objectId: r.object_id,
        documentId: r.document_id,
        chunkIndex: r.chunk_index,
        title: r.title,
        content: r.content,
        snippet: r.snippet,
        source: r.source,
        occurredAt: r.occurred_at,
        fullTextRank: r.full_text_rank,
        semanticRank: r.semantic_rank,
        score: r.score,
      }));
    });
  },

  async replaceDocumentChunks(documentId, contentHash, chunks) {
    const payload = chunks.map((c) => ({
      content: c.content,
      embedding: vectorLiteral(c.embedding),
    }));
    const [row] = await sql`select private.store_chunks(${documentId}, ${contentHash}, ${
      jsonb(payload)
    }) as stored`;
    return row.stored;
  },

  async replaceObjectChunks(object, contentHash, chunks) {
    const payload = chunks.map((c) => ({
      content: c.content,
      embedding: vectorLiteral(c.embedding),
    }));
    const [row] = await sql`select private.store_object_chunks(${object.type}, ${object.id},
      ${contentHash}, ${jsonb(payload)}) as stored`;
    return row.stored;
  },
};
