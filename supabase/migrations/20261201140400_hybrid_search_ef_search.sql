-- hybrid_search explores 200 candidates of the HNSW graph per search (was 100). At 300k chunks
-- (bench search-300k) recall@10 of the semantic side was 0.92 with 100, below the 0.95 it must
-- keep; the graph's search cost grows with ef_search, so latency grows with it (p95 24 ms at
-- 300k with 100, under load). The body is 20261201012000's otherwise; `set enable_seqscan = off`
-- (20261201140300) is part of the definition now, since create or replace resets a function's
-- settings. Catalog change only.
create or replace function public.hybrid_search(
  query_text text,
  query_embedding extensions.vector(1536),
  match_count int default 10,
  object_types text[] default null,
  sources text[] default null,
  document_ids uuid[] default null,
  occurred_from timestamptz default null,
  occurred_to timestamptz default null,
  full_text_weight float default 1,
  semantic_weight float default 1,
  rrf_k int default 60,
  document_kinds text[] default null
) returns table (
  id bigint, object_type text, object_id uuid, document_id uuid, chunk_index int, title text,
  content text, snippet text, source text, occurred_at timestamptz,
  full_text_rank bigint, semantic_rank bigint, score float
)
language plpgsql stable security invoker set search_path = '' set enable_seqscan = off as $$
declare
  lang regconfig := coalesce((select (value #>> '{}')::regconfig from public.app_settings where key = 'knowledge.language'), 'english');
  query tsquery := websearch_to_tsquery(lang, query_text);
  candidates int := greatest(match_count, 1) * 2;
begin
  if match_count < 1 or match_count > 200 then
    raise exception 'match_count must be between 1 and 200' using errcode = '22023';
  end if;
  -- With filters, keep scanning the HNSW graph until enough rows pass them.
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
  -- 200 candidates per search: recall@10 0.92 at 300k chunks with 100 (bench/search.ts).
  perform set_config('hnsw.ef_search', greatest(200, candidates)::text, true);
  return query
  with full_text as (
    select c.id, c.rank_ix
    from private.full_text_candidates(query, candidates, object_types, sources, document_ids,
                                      document_kinds, occurred_from, occurred_to) c
  ),
  semantic as (
    select s.id, row_number() over (order by s.embedding operator(extensions.<=>) query_embedding) as rank_ix
    from public.search_index s
    where s.embedding is not null
      and (object_types is null or s.object_type = any(object_types))
      and (sources is null or s.source = any(sources))
      and (document_ids is null or s.document_id = any(document_ids))
      and (document_kinds is null
           or s.document_id in (select d.id from public.documents d where d.kind = any(document_kinds)))
      and (occurred_from is null or s.occurred_at >= occurred_from)
      and (occurred_to is null or s.occurred_at < occurred_to)
      and (s.expires_at is null or s.expires_at > now())
    order by s.embedding operator(extensions.<=>) query_embedding
    limit candidates
  ),
  fused as (
    select coalesce(f.id, v.id) as id, f.rank_ix as f_rank, v.rank_ix as v_rank,
      coalesce(full_text_weight / (rrf_k + f.rank_ix), 0.0)
        + coalesce(semantic_weight / (rrf_k + v.rank_ix), 0.0) as score
    from full_text f full outer join semantic v on f.id = v.id
    order by score desc
    limit match_count
  )
  select s.id, s.object_type, s.object_id, s.document_id, s.chunk_index, s.title, s.content,
    case when fu.f_rank is not null
      then ts_headline(lang, s.content, query, 'MaxFragments=2, MaxWords=30, MinWords=10, StartSel=**, StopSel=**')
      else left(s.content, 240) end,
    s.source, s.occurred_at, fu.f_rank, fu.v_rank, fu.score::float
  from fused fu join public.search_index s on s.id = fu.id
  order by fu.score desc, s.id;
end $$;
