-- Knowledge's paid path is limited whichever way it is reached. Every document insert or text
-- change queues a paid embedding run, through the documents function or straight through
-- PostgREST (one PATCH /rest/v1/documents?owner_id=eq.<me> re-embeds every document), so the
-- limits live in the table's trigger, not only in the function:
--   a write rate limit per user (rate_limit.document_writes) and per-user quotas
--   (knowledge.max_documents, knowledge.max_bytes; overridden per user by profiles.quotas);
--   the budget is checked before any embedding call (the ingest function): past the hard limit
--   the document ends `error` with error_code `budget_exceeded` and no provider is called.
-- Also: ingestion jobs killed mid-run count their attempts and are dead-lettered at
-- knowledge.max_attempts; search filters by document kind before its LIMIT.

insert into public.app_settings (key, value, description) values
  ('rate_limit.document_writes', '{"requests": 100, "window_seconds": 60}',
   'document inserts and text changes per user per window, however they are made (each one is a paid embedding run)'),
  ('rate_limit.search', '{"requests": 60, "window_seconds": 60}',
   'knowledge searches per user per window (each one embeds the query)'),
  ('knowledge.max_documents', '10000', 'documents a user may own; profiles.quotas -> documents overrides it'),
  ('knowledge.max_bytes', '200000000',
   'total bytes of document text a user may own; profiles.quotas -> bytes overrides it')
on conflict (key) do nothing;

-- Per-user overrides of the knowledge quotas, e.g. {"documents": 50000}. Not the user's to change
-- (profiles' column grants cover display_name, timezone and preferences only).
alter table public.profiles add column if not exists quotas jsonb not null default '{}'::jsonb
  check (jsonb_typeof(quotas) = 'object');

-- Why a document ended `error`: budget_exceeded, interrupted (its ingestion was killed
-- knowledge.max_attempts times), ingestion_failed. The message is in `error`.
alter table public.documents add column if not exists error_code text;

-- Errors raised with SQLSTATE PTxyz are answered with HTTP status xyz by PostgREST; the
-- functions answer them the same way (_shared/http.ts), with the code in HINT and the details
-- as JSON in DETAIL.
create or replace function private.check_document_limits() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  quota jsonb;
  max_documents bigint;
  max_bytes bigint;
  owned bigint;
  owned_bytes bigint;
  lim record;
begin
  if tg_op = 'UPDATE' and new.content is not distinct from old.content then
    return new; -- no new text, no embedding run
  end if;
  -- One writer per owner at a time, so that two inserts at once cannot both pass the quota.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('documents:' || new.owner_id, 0));

  select * into lim from private.check_rate_limit(new.owner_id, 'document_writes');
  if found and not lim.allowed then
    raise exception 'Too many document writes: at most % per % s', lim.max_requests, lim.window_seconds
      using errcode = 'PT429', hint = 'rate_limited',
            detail = pg_catalog.jsonb_build_object('retry_after_seconds', lim.retry_after_seconds)::text;
  end if;

  select p.quotas into quota from public.profiles p where p.id = new.owner_id;
  max_documents := coalesce((quota ->> 'documents')::bigint,
    (select (value #>> '{}')::bigint from public.app_settings where key = 'knowledge.max_documents'));
  max_bytes := coalesce((quota ->> 'bytes')::bigint,
    (select (value #>> '{}')::bigint from public.app_settings where key = 'knowledge.max_bytes'));
  select count(*), coalesce(sum(pg_catalog.octet_length(d.content)), 0) into owned, owned_bytes
  from public.documents d where d.owner_id = new.owner_id and d.id <> new.id;
  if owned + 1 > max_documents then
    raise exception 'You may keep at most % documents', max_documents
      using errcode = 'PT403', hint = 'quota_exceeded',
            detail = pg_catalog.jsonb_build_object('quota', 'documents', 'limit', max_documents)::text;
  end if;
  if owned_bytes + pg_catalog.octet_length(new.content) > max_bytes then
    raise exception 'Your documents may hold at most % bytes of text', max_bytes
      using errcode = 'PT403', hint = 'quota_exceeded',
            detail = pg_catalog.jsonb_build_object('quota', 'bytes', 'limit', max_bytes)::text;
  end if;
  return new;
end $$;
revoke execute on function private.check_document_limits() from public, anon, authenticated;

drop trigger if exists documents_limits on public.documents;
create trigger documents_limits before insert or update of content on public.documents
  for each row execute function private.check_document_limits();

-- Ingestion failures ---------------------------------------------------------------------------
-- A failed attempt: back off and retry, or dead-letter after the last attempt (or at once, for
-- a failure no retry can fix, such as budget_exceeded) with the code and message on the document.
drop function if exists private.fail_ingestion(uuid, text);
create function private.fail_ingestion(
  p_document_id uuid, p_message text, p_code text default 'ingestion_failed', p_final boolean default false
) returns text
language plpgsql security definer set search_path = '' as $$
declare
  job public.ingestion_jobs;
  max_attempts int := coalesce((select value::int from public.app_settings where key = 'knowledge.max_attempts'), 5);
  base int := coalesce((select value::int from public.app_settings where key = 'knowledge.retry_base_seconds'), 30);
begin
  select * into job from public.ingestion_jobs where document_id = p_document_id for update;
  if job.document_id is null then return null; end if;
  if p_final or job.attempts >= max_attempts then
    update public.ingestion_jobs set status = 'dead', locked_at = null, last_error = left(p_message, 2000)
    where document_id = p_document_id;
    update public.documents set status = 'error', error = left(p_message, 2000), error_code = p_code
    where id = p_document_id;
    return 'dead';
  end if;
  update public.ingestion_jobs set status = 'queued', locked_at = null, last_error = left(p_message, 2000),
    next_run_at = now() + make_interval(secs => base * power(2, job.attempts - 1))
  where document_id = p_document_id;
  update public.documents set status = 'pending', error = null, error_code = null where id = p_document_id;
  return 'queued';
end $$;
revoke execute on function private.fail_ingestion(uuid, text, text, boolean) from public, anon, authenticated;

-- A new text clears the last run's error code along with its error.
create or replace function private.hash_document_content() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.content_hash := encode(sha256(convert_to(new.content, 'UTF8')), 'hex');
  if new.content_hash is distinct from new.indexed_hash then
    new.status := 'pending';
    new.error := null;
    new.error_code := null;
  end if;
  return new;
end $$;

-- Recovery step stuck_ingestion: a job left in processing for 10 minutes was killed (memory,
-- CPU or wall-clock limit). Its claim counted the attempt, so it is a failed attempt like any
-- other: retried with backoff, dead-lettered at knowledge.max_attempts. (Before, it went back to
-- the queue as it was, so a document that kills its worker every time looped forever.)
create or replace function private.recover_stuck_ingestion(batch_size int) returns int
language plpgsql security definer set search_path = '' as $$
declare
  doc uuid;
  recovered int := 0;
begin
  for doc in
    select document_id from public.ingestion_jobs
    where status = 'processing' and locked_at < now() - interval '10 minutes'
    order by locked_at limit batch_size
    for update skip locked
  loop
    perform private.fail_ingestion(doc, 'interrupted while processing', 'interrupted');
    recovered := recovered + 1;
  end loop;
  return recovered;
end $$;

-- Search: filter by document kind inside the query ------------------------------------------
-- GET /documents/search?kinds= filtered the page after hybrid_search had cut it to match_count,
-- so pages came back short or empty while matches existed. The kinds are a filter of
-- hybrid_search now, applied on both sides before fusion and LIMIT, like the others.
drop function if exists public.hybrid_search(text, extensions.vector, int, text[], text[], uuid[],
  timestamptz, timestamptz, float, float, int);
drop function if exists private.full_text_candidates(tsquery, int, text[], text[], uuid[],
  timestamptz, timestamptz);

create function private.full_text_candidates(
  query tsquery, max_rows int, object_types text[], sources text[], document_ids uuid[],
  document_kinds text[], occurred_from timestamptz, occurred_to timestamptz
) returns table (id bigint, rank_ix bigint)
language sql stable security definer set search_path = '' as $$
  select s.id, row_number() over (order by ts_rank_cd(s.fts, query) desc, s.id)
  from public.search_index s
  where s.fts @@ query
    and (select private.account_access((select auth.uid()))) = 'allowed'
    and (s.owner_id = (select auth.uid()) or s.visibility = 'shared'
         or s.document_id in (select g.document_id from public.document_grants g
                              where g.user_id = (select auth.uid())))
    and (object_types is null or s.object_type = any(object_types))
    and (sources is null or s.source = any(sources))
    and (document_ids is null or s.document_id = any(document_ids))
    and (document_kinds is null
         or s.document_id in (select d.id from public.documents d where d.kind = any(document_kinds)))
    and (occurred_from is null or s.occurred_at >= occurred_from)
    and (occurred_to is null or s.occurred_at < occurred_to)
    and (s.expires_at is null or s.expires_at > now())
  order by 2
  limit max_rows
$$;
revoke execute on function private.full_text_candidates(tsquery, int, text[], text[], uuid[], text[],
  timestamptz, timestamptz) from public, anon;
grant execute on function private.full_text_candidates(tsquery, int, text[], text[], uuid[], text[],
  timestamptz, timestamptz) to authenticated;

-- Semantic (HNSW cosine) and full-text (websearch_to_tsquery) ranks fused by reciprocal rank,
-- with weights, under the caller's RLS. Filters narrow both sides before fusion.
-- document_kinds: only chunks of documents of these kinds (transcript, document, note).
create function public.hybrid_search(
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
language plpgsql stable security invoker set search_path = '' as $$
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
  -- 100 candidates per search keeps recall@10 near 0.99 at 100k chunks (bench/search.ts).
  perform set_config('hnsw.ef_search', greatest(100, candidates)::text, true);
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
grant execute on function public.hybrid_search(text, extensions.vector, int, text[], text[], uuid[],
  timestamptz, timestamptz, float, float, int, text[]) to authenticated;
revoke execute on function public.hybrid_search(text, extensions.vector, int, text[], text[], uuid[],
  timestamptz, timestamptz, float, float, int, text[]) from anon, public;
