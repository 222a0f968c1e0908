// Search: hybrid search (full text + meaning, one SQL function under RLS) over everything the
// caller may read, inbox events, notes and threads as well as documents, then one structured
// call (step prompts.search) that answers from the passages found. The answer cites passages
// in the chat's citation format; a citation of anything not found is asked about once, then
// dropped.
import { z } from "zod";
import { searchKnowledge } from "../knowledge/search.ts";
import type { SearchHit } from "../knowledge/vector_store.ts";
import type { InboxRun } from "./llm.ts";
import { localStamp } from "./events.ts";
import { iso, type Source, type TimeWindow } from "./types.ts";

const PASSAGES = 12;

const Answer = z.strictObject({
  answer: z.string().min(1).max(4000).describe(
    "the answer, from the passages only; say so when they do not answer it",
  ),
  citations: z.array(z.strictObject({
    id: z.uuid().describe("the [id] of a passage the answer uses, copied exactly"),
  })).max(PASSAGES),
});

const SYSTEM =
  "You answer a user's question from passages of their workspace (messages, emails, notes, documents). " +
  "Each passage starts with its [id]. Use only the passages; cite the ones you use by id.";

/** A passage cited, as chat messages store citations, plus what it is. */
export interface SearchCitation {
  type: "citation";
  document_id: string;
  chunk_index: number;
  title: string;
  snippet: string;
  object_type: string;
  object_id: string;
  source: string | null;
  occurred_at: string | null;
}

export async function searchAndAnswer(
  run: InboxRun,
  input: { query: string; sources: Source[] | null; window: TimeWindow | null; timeZone: string },
) {
  const hits = await searchKnowledge(run.user.claims, input.query, {
    limit: 20,
    requestId: run.requestId,
    filters: {
      // Named sources are inbox sources: only their events and threads.
      ...(input.sources ? { sources: input.sources, objectTypes: ["event", "thread"] } : {}),
      ...(input.window ? { from: input.window.start, to: input.window.end } : {}),
    },
  });
  const passages = dedupe(hits).slice(0, PASSAGES);
  if (passages.length === 0) {
    return { answer: "Nothing in your workspace matches that.", citations: [], results: [] };
  }
  const byId = new Map(passages.map((h) => [h.objectId, h]));
  const text = passages.map((h) =>
    `[${h.objectId}] ${h.objectType}${h.source ? ` ${h.source}` : ""}${
      h.occurredAt ? ` ${localStamp(h.occurredAt, input.timeZone)}` : ""
    } ${h.title ?? ""}\n${h.content.slice(0, 1500)}`
  ).join("\n\n");
  const { object } = await run.citingObject(
    "prompts.search",
    {
      system: SYSTEM,
      messages: [{ role: "user", content: `Passages:\n${text}\n\nQuestion: ${input.query}` }],
    },
    Answer,
    {
      name: "answer",
      allowed: new Set(byId.keys()),
      cited: (o) => o.citations.map((c) => c.id),
    },
  );
  const cited = [...new Set(object.citations.map((c) => c.id))].filter((id) => byId.has(id));
  return {
    answer: object.answer,
    citations: cited.map((id) => citationOf(byId.get(id)!)),
    results: passages.map((h) => ({ ...citationOf(h), score: h.score })),
  };
}

/** One passage per object (its best chunk), in score order. */
function dedupe(hits: SearchHit[]): SearchHit[] {
  const seen = new Set<string>();
  return hits.filter((h) => !seen.has(h.objectId) && seen.add(h.objectId));
}

function citationOf(h: SearchHit): SearchCitation {
  return {
    type: "citation",
    document_id: h.documentId ?? h.objectId,
    chunk_index: h.chunkIndex,
    title: h.title ?? h.snippet.slice(0, 80),
    snippet: h.snippet,
    object_type: h.objectType,
    object_id: h.objectId,
    source: h.source,
    occurred_at: h.occurredAt && iso(h.occurredAt),
  };
}
