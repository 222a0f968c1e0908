// The knowledge tools offered to the chat model: search the user's knowledge, and read one
// document. Every passage returned is cited.
import { z } from "zod";
import { asUser } from "../db.ts";
import { defineTool } from "../tool.ts";
import { searchKnowledge } from "./search.ts";

/** Longest document text handed to the model in one tool result (about 8,000 tokens). */
const MAX_DOCUMENT_CHARS = 32_000;

const snippetOf = (text: string) => text.replace(/\s+/g, " ").slice(0, 240);

export const searchKnowledgeTool = defineTool(
  "search_knowledge",
  "Search the user's documents and meeting transcripts (by meaning and by exact words). Returns passages with their document id; cite what you use.",
  z.object({
    query: z.string().min(1).max(1000),
    limit: z.number().int().min(1).max(20).optional(),
  }),
  async ({ query, limit }, ctx) => {
    const hits = await searchKnowledge(ctx.claims, query, {
      limit: limit ?? 5,
      requestId: ctx.requestId,
    });
    return hits.map((h) => {
      if (h.documentId) {
        ctx.cite({
          documentId: h.documentId,
          chunkIndex: h.chunkIndex,
          title: h.title ?? "",
          snippet: snippetOf(h.snippet),
        });
      }
      return {
        document_id: h.documentId,
        title: h.title,
        chunk_index: h.chunkIndex,
        text: h.content,
      };
    });
  },
);

export const getDocumentTool = defineTool(
  "get_document",
  "Read one document or transcript in full, by its id.",
  z.object({ document_id: z.uuid() }),
  async ({ document_id }, ctx) => {
    const [doc] = await asUser(
      ctx.claims,
      (tx) => tx`select id, title, kind, content from public.documents where id = ${document_id}`,
    );
    if (!doc) throw new Error("document not found");
    ctx.cite({
      documentId: doc.id,
      chunkIndex: 0,
      title: doc.title,
      snippet: snippetOf(doc.content),
    });
    const truncated = doc.content.length > MAX_DOCUMENT_CHARS;
    return {
      document_id: doc.id,
      title: doc.title,
      kind: doc.kind,
      content: truncated ? `${doc.content.slice(0, MAX_DOCUMENT_CHARS)}\n[truncated]` : doc.content,
    };
  },
);

export const knowledgeTools = [searchKnowledgeTool, getDocumentTool];
