// @mentions: documents named in the request body (`mentions`) or in the text as
// `@[title](doc:<uuid>)` are put into the model's context, within a share of its context
// budget, and cited. The send's statement (private.prepare_reply) reads those the user may
// read (RLS): an unreadable one is a 422 unknown_document; a regenerated reply leaves it out.
import type { ModelSpec } from "../llm/types.ts";
import type { Citation } from "../stream/events.ts";

export interface MentionedDocument {
  id: string;
  title: string;
  content: string;
}

export const MAX_MENTIONS = 20;
/** Share of the history budget that mentioned documents may fill together. */
const MENTIONS_SHARE = 0.5;
const MENTION_IN_TEXT = /@\[[^\]]*\]\(doc:([0-9a-f-]{36})\)/gi;

export function mentionedIds(content: string, fromBody: string[] = []): string[] {
  const inText = [...content.matchAll(MENTION_IN_TEXT)].map((m) => m[1].toLowerCase());
  return [...new Set([...fromBody.map((id) => id.toLowerCase()), ...inText])];
}

/** The system-prompt addition for the mentioned documents, truncated to fit, and their citations. */
export function mentionsPrompt(docs: MentionedDocument[], spec: ModelSpec, budgetRatio: number) {
  if (docs.length === 0) return { prompt: "", citations: [] as Citation[] };
  const perDocumentChars = Math.floor(
    (spec.contextWindow * budgetRatio * MENTIONS_SHARE * 4) / docs.length,
  );
  const blocks = docs.map((d) => {
    const text = d.content.length > perDocumentChars
      ? `${d.content.slice(0, perDocumentChars)}\n[truncated]`
      : d.content;
    return `<document id="${d.id}" title="${d.title.replace(/"/g, "'")}">\n${text}\n</document>`;
  });
  return {
    prompt: `\n\nThe user referred to these documents; use them to answer:\n${blocks.join("\n")}`,
    citations: docs.map((d) => ({
      documentId: d.id,
      chunkIndex: 0,
      title: d.title,
      snippet: d.content.replace(/\s+/g, " ").slice(0, 240),
    })),
  };
}
