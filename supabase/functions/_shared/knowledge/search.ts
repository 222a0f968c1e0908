// Searching knowledge as a user: embed the query (metered), then hybrid search under RLS.
import type { JwtClaims } from "../db.ts";
import { embedFor } from "./embeddings.ts";
import {
  pgVectorStore,
  type SearchFilters,
  type SearchHit,
  type VectorStore,
} from "./vector_store.ts";

export async function searchKnowledge(
  user: JwtClaims,
  text: string,
  opts: { limit: number; filters?: SearchFilters; requestId?: string },
  store: VectorStore = pgVectorStore,
): Promise<SearchHit[]> {
  const [embedding] = await embedFor(user.sub, [text], opts.requestId);
  return await store.search(user, { text, embedding, limit: opts.limit, filters: opts.filters });
}
