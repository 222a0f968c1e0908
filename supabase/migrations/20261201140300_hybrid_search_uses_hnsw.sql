-- hybrid_search's semantic side always walks the HNSW index. The planner prices a vector
-- distance like any operator (cpu_operator_cost), while a 1,536-dimension cosine distance costs
-- ~1-2 us, so below a few tens of thousands of visible rows it chose a Seq Scan and a sort over
-- every row: at 10k chunks 60-160 ms a search, against 2-4 ms through the index (bench/search.ts,
-- curve @10k; docs/BENCHMARKS.md "Profile: search"). With seq scans priced out it still picks a
-- btree or bitmap path when a filter is narrow enough (document_ids -> search_index_document),
-- which is exact. pgvector's documentation gives the same advice (enable_seqscan = off).
-- A function's SET applies while it runs and is restored after: the caller's session is untouched.
-- Catalog change only.
alter function public.hybrid_search(text, extensions.vector, int, text[], text[], uuid[],
  timestamptz, timestamptz, float, float, int, text[]) set enable_seqscan = off;
