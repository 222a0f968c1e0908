-- Knowledge: documents (transcripts, documents, notes) with sharing, ingestion through database
-- webhooks with tracked jobs, one search index for every searchable object, and hybrid search.

insert into public.app_settings (key, value, description) values
  ('knowledge.embedding_model', '"text-embedding-3-small"', 'model alias used to embed chunks and queries'),
  ('knowledge.max_attempts', '5', 'ingestion attempts before a job is dead-lettered'),
  ('knowledge.retry_base_seconds', '30', 'first retry delay of a failed ingestion; doubles each attempt'),
  ('knowledge.language', '"english"', 'text search configuration of the search index')
on conflict (key) do nothing;

-- Documents --------------------------------------------------------------------------------
create table public.documents (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  kind text not null check (kind in ('transcript', 'document', 'note')),
  title text not null check (char_length(title) between 1 and 300),
  visibility text not null default 'private' check (visibility in ('private', 'shared')),
  content text not null default '' check (octet_length(content) <= 2000000),
  content_hash text,
  source text check (char_length(source) <= 100),
  source_id text check (char_length(source_id) <= 300),
  occurred_at timestamptz,
  metadata jsonb not null default '{}'::jsonb check (octet_length(metadata::text) <= 20000),
  storage_path text,
  mime_type text,
  size_bytes int,
  status text not null default 'pending' check (status in ('pending', 'processing', 'ready', 'error')),
  error text,
  chunk_count int not null default 0,
  -- The content_hash whose chunks are in the index: unchanged content is never embedded twice.
  indexed_hash text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (owner_id, source, source_id)
);
create index documents_owner_created on public.documents (owner_id, created_at desc, id desc);
create index documents_shared_created on public.documents (created_at desc, id desc) where visibility = 'shared';
create index documents_title_trgm on public.documents using gin (title extensions.gin_trgm_ops);

create table public.document_grants (
  document_id uuid not null references public.documents (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  granted_at timestamptz not null default now(),
  primary key (document_id, user_id)
);
create index document_grants_user on public.document_grants (user_id);

alter table public.documents enable row level security;
create policy "documents: readable by owner, everyone if shared, and grantees" on public.documents
  for select to authenticated using (
    owner_id = (select auth.uid()) or visibility = 'shared'
    or id in (select g.document_id from public.document_grants g where g.user_id = (select auth.uid()))
  );
create policy "documents: owner creates" on public.documents
  for insert to authenticated with check (owner_id = (select auth.uid()));
create policy "documents: owner updates" on public.documents
  for update to authenticated using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));
create policy "documents: owner deletes" on public.documents
  for delete to authenticated using (owner_id = (select auth.uid()));
revoke insert, update on public.documents from anon, authenticated;
grant insert (id, owner_id, kind, title, visibility, content, source, source_id, occurred_at, metadata,
              storage_path, mime_type, size_bytes)
  on public.documents to authenticated;
grant update (title, visibility, content, occurred_at, metadata) on public.documents to authenticated;

-- Grants policies ask who owns the document through this definer function: a plain subquery on
-- documents would run documents' own policy, which reads grants (infinite recursion).
create function private.owns_document(doc uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.documents where id = doc and owner_id = (select auth.uid()))
$$;
revoke execute on function private.owns_document(uuid) from public, anon;
grant execute on function private.owns_document(uuid) to authenticated;

alter table public.document_grants enable row level security;
create policy "document_grants: the document's owner and the grantee read" on public.document_grants
  for select to authenticated using (user_id = (select auth.uid()) or private.owns_document(document_id));
create policy "document_grants: the document's owner grants" on public.document_grants
  for insert to authenticated with check (private.owns_document(document_id));
create policy "document_grants: the document's owner revokes" on public.document_grants
  for delete to authenticated using (private.owns_document(document_id));
revoke update on public.document_grants from anon, authenticated;

-- Ingestion jobs: one per document, tracked because webhook deliveries are not guaranteed ------
create table public.ingestion_jobs (
  document_id uuid primary key references public.documents (id) on delete cascade,
  owner_id uuid not null references auth.users (id) on delete cascade,
  status text not null default 'queued' check (status in ('queued', 'processing', 'done', 'dead')),
  attempts int not null default 0,
  next_run_at timestamptz not null default now(),
  dispatched_at timestamptz,
  locked_at timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index ingestion_jobs_owner on public.ingestion_jobs (owner_id);
create index ingestion_jobs_due on public.ingestion_jobs (next_run_at) where status = 'queued';
create index ingestion_jobs_processing on public.ingestion_jobs (locked_at) where status = 'processing';

alter table public.ingestion_jobs enable row level security;
create policy "ingestion_jobs: owner and admins read" on public.ingestion_jobs
  for select to authenticated using (owner_id = (select auth.uid()) or (select private.is_admin()));
revoke insert, update, delete on public.ingestion_jobs from anon, authenticated;

create trigger ingestion_jobs_touch before update on public.ingestion_jobs
  for each row execute function private.touch_updated_at();

-- The search index: chunks of anything searchable ------------------------------------------
create table public.search_index (
  id bigint generated always as identity primary key,
  owner_id uuid not null references auth.users (id) on delete cascade,
  visibility text not null default 'private' check (visibility in ('private', 'shared')),
  object_type text not null check (object_type in ('document_chunk', 'event', 'note', 'thread')),
  object_id uuid not null,
  -- Set for document chunks: they go with their document.
  document_id uuid references public.documents (id) on delete cascade,
  chunk_index int not null,
  title text,
  content text not null,
  embedding extensions.vector(1536),
  language regconfig not null default 'english',
  fts tsvector generated always as
    (to_tsvector(language, coalesce(title, '') || ' ' || content)) stored,
  source text,
  occurred_at timestamptz,
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  unique (object_type, object_id, chunk_index)
);
create index search_index_embedding on public.search_index
  using hnsw (embedding extensions.vector_cosine_ops);
create index search_index_fts on public.search_index using gin (fts);
create index search_index_owner on public.search_index (owner_id);
create index search_index_document on public.search_index (document_id);
create index search_index_occurred on public.search_index (occurred_at);
create index search_index_expires on public.search_index (expires_at) where expires_at is not null;

alter table public.search_index enable row level security;
create policy "search_index: readable like its object" on public.search_index
  for select to authenticated using (
    owner_id = (select auth.uid()) or visibility = 'shared'
    or document_id in (select g.document_id from public.document_grants g where g.user_id = (select auth.uid()))
  );
revoke insert, update, delete on public.search_index from anon, authenticated;

-- Triggers: hash content, keep chunk visibility in step, queue ingestion --------------------
create function private.hash_document_content() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.content_hash := encode(sha256(convert_to(new.content, 'UTF8')), 'hex');
  if new.content_hash is distinct from new.indexed_hash then
    new.status := 'pending';
    new.error := null;
  end if;
  return new;
end $$;

create trigger documents_hash before insert or update of content on public.documents
  for each row execute function private.hash_document_content();
create trigger documents_touch before update on public.documents
  for each row execute function private.touch_updated_at();

create function private.sync_chunk_visibility() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  update public.search_index set visibility = new.visibility where document_id = new.id;
  return null;
end $$;
revoke execute on function private.sync_chunk_visibility() from public, anon, authenticated;

create trigger documents_visibility after update of visibility on public.documents
  for each row when (old.visibility is distinct from new.visibility)
  execute function private.sync_chunk_visibility();

-- Calls the ingest function through pg_net with ids only (pg_net stalls on bodies over 64 KB),
-- authenticated by a secret kept in Vault. Without the Vault secrets (see README) jobs wait.
create function private.dispatch_ingestion(doc uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  base_url text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_functions_url');
  secret text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret');
begin
  if base_url is null or secret is null then
    raise warning 'aide: Vault secrets aide_functions_url / aide_webhook_secret are missing; ingestion waits';
    return;
  end if;
  perform net.http_post(
    url := base_url || '/ingest',
    body := jsonb_build_object('document_id', doc),
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || secret),
    timeout_milliseconds := 120000);
  update public.ingestion_jobs set dispatched_at = now() where document_id = doc;
end $$;
revoke execute on function private.dispatch_ingestion(uuid) from public, anon, authenticated;

create function private.queue_ingestion() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if (tg_op = 'UPDATE' and old.content_hash is not distinct from new.content_hash)
     or new.content_hash is not distinct from new.indexed_hash then
    return null; -- same content as before, or already indexed: nothing to embed
  end if;
  insert into public.ingestion_jobs (document_id, owner_id) values (new.id, new.owner_id)
  on conflict (document_id) do update set
    status = 'queued', attempts = 0, next_run_at = now(), last_error = null, locked_at = null;
  perform private.dispatch_ingestion(new.id);
  return null;
end $$;
revoke execute on function private.queue_ingestion() from public, anon, authenticated;

create trigger documents_ingest after insert or update of content on public.documents
  for each row execute function private.queue_ingestion();

-- The ingest function's side of a job --------------------------------------------------------
-- Claims a due job; null when there is nothing to do (done, dead, not due, or taken).
create function private.claim_ingestion(doc uuid) returns public.ingestion_jobs
language sql security definer set search_path = '' as $$
  update public.ingestion_jobs set status = 'processing', locked_at = now(), attempts = attempts + 1
  where document_id = doc and status = 'queued' and next_run_at <= now()
  returning *
$$;
revoke execute on function private.claim_ingestion(uuid) from public, anon, authenticated;

-- Replaces a document's chunks and marks it ready, in one transaction. `chunks` is a JSON array
-- of {content, embedding}; nothing is written if the document changed since it was read.
create function private.store_chunks(doc uuid, indexed text, chunks jsonb) returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  d public.documents;
begin
  select * into d from public.documents where id = doc for update;
  if d.id is null or d.content_hash is distinct from indexed then
    return false;
  end if;
  delete from public.search_index where document_id = doc;
  insert into public.search_index (owner_id, visibility, object_type, object_id, document_id, chunk_index,
                                   title, content, embedding, language, source, occurred_at)
  select d.owner_id, d.visibility, 'document_chunk', d.id, d.id, (c.ordinality - 1)::int, d.title,
         c.value ->> 'content', (c.value ->> 'embedding')::extensions.vector,
         coalesce((select (value #>> '{}')::regconfig from public.app_settings where key = 'knowledge.language'), 'english'),
         d.source, coalesce(d.occurred_at, d.created_at)
  from jsonb_array_elements(chunks) with ordinality c;
  update public.documents set status = 'ready', error = null, indexed_hash = indexed,
    chunk_count = jsonb_array_length(chunks) where id = doc;
  update public.ingestion_jobs set status = 'done', locked_at = null, last_error = null where document_id = doc;
  return true;
end $$;
revoke execute on function private.store_chunks(uuid, text, jsonb) from public, anon, authenticated;

-- A failed attempt: back off and retry, or dead-letter after the last attempt.
create function private.fail_ingestion(doc uuid, message text) returns text
language plpgsql security definer set search_path = '' as $$
declare
  job public.ingestion_jobs;
  max_attempts int := coalesce((select value::int from public.app_settings where key = 'knowledge.max_attempts'), 5);
  base int := coalesce((select value::int from public.app_settings where key = 'knowledge.retry_base_seconds'), 30);
begin
  select * into job from public.ingestion_jobs where document_id = doc for update;
  if job.document_id is null then return null; end if;
  if job.attempts >= max_attempts then
    update public.ingestion_jobs set status = 'dead', locked_at = null, last_error = left(message, 2000)
    where document_id = doc;
    update public.documents set status = 'error', error = left(message, 2000) where id = doc;
    return 'dead';
  end if;
  update public.ingestion_jobs set status = 'queued', locked_at = null, last_error = left(message, 2000),
    next_run_at = now() + make_interval(secs => base * power(2, job.attempts - 1))
  where document_id = doc;
  update public.documents set status = 'pending', error = null where id = doc;
  return 'queued';
end $$;
revoke execute on function private.fail_ingestion(uuid, text) from public, anon, authenticated;

-- Recovery steps of the aide-recovery job (every minute; see the scheduled-work migration):
-- jobs stuck in processing return to the queue, and due jobs whose webhook never arrived (or
-- failed) are dispatched again. Each call handles at most batch_size jobs and says how many.
create function private.recover_stuck_ingestion(batch_size int) returns int
language sql security definer set search_path = '' as $$
  with stuck as (
    select document_id from public.ingestion_jobs
    where status = 'processing' and locked_at < now() - interval '10 minutes'
    order by locked_at limit batch_size
    for update skip locked
  ), requeued as (
    update public.ingestion_jobs j set status = 'queued', locked_at = null, next_run_at = now(),
      last_error = coalesce(j.last_error, 'interrupted while processing')
    from stuck where j.document_id = stuck.document_id
    returning 1
  )
  select count(*)::int from requeued
$$;
revoke execute on function private.recover_stuck_ingestion(int) from public, anon, authenticated;

create function private.dispatch_due_ingestion(batch_size int) returns int
language plpgsql security definer set search_path = '' as $$
declare
  doc uuid;
  sent int := 0;
begin
  for doc in
    select document_id from public.ingestion_jobs
    where status = 'queued' and next_run_at <= now()
      and (dispatched_at is null or dispatched_at < greatest(next_run_at, now() - interval '2 minutes'))
    order by next_run_at limit batch_size
    for update skip locked
  loop
    perform private.dispatch_ingestion(doc);
    sent := sent + 1;
  end loop;
  return sent;
end $$;
revoke execute on function private.dispatch_due_ingestion(int) from public, anon, authenticated;

insert into private.recovery_steps (name, handler) values
  ('stuck_ingestion', 'private.recover_stuck_ingestion'),
  ('due_ingestion', 'private.dispatch_due_ingestion')
on conflict (name) do nothing;

-- The full-text side of hybrid_search. Under RLS, Postgres cannot use the GIN index for `@@`
-- (the operator is not leakproof), and scans every row; so this definer function finds the
-- candidates with the index, applying the same visibility rule as search_index's policy.
-- hybrid_search then reads the rows themselves under the caller's RLS, so a row this function
-- should not have returned is still never shown.
create function private.full_text_candidates(
  query tsquery, max_rows int, object_types text[], sources text[], document_ids uuid[],
  occurred_from timestamptz, occurred_to timestamptz
) returns table (id bigint, rank_ix bigint)
language sql stable security definer set search_path = '' as $$
  select s.id, row_number() over (order by ts_rank_cd(s.fts, query) desc, s.id)
  from public.search_index s
  where s.fts @@ query
    and (s.owner_id = (select auth.uid()) or s.visibility = 'shared'
         or s.document_id in (select g.document_id from public.document_grants g
                              where g.user_id = (select auth.uid())))
    and (object_types is null or s.object_type = any(object_types))
    and (sources is null or s.source = any(sources))
    and (document_ids is null or s.document_id = any(document_ids))
    and (occurred_from is null or s.occurred_at >= occurred_from)
    and (occurred_to is null or s.occurred_at < occurred_to)
    and (s.expires_at is null or s.expires_at > now())
  order by 2
  limit max_rows
$$;
revoke execute on function private.full_text_candidates(tsquery, int, text[], text[], uuid[], timestamptz, timestamptz)
  from public, anon;
grant execute on function private.full_text_candidates(tsquery, int, text[], text[], uuid[], timestamptz, timestamptz)
  to authenticated;

-- Hybrid search -------------------------------------------------------------------------------
-- Semantic (HNSW cosine) and full-text (websearch_to_tsquery) ranks fused by reciprocal rank,
-- with weights, under the caller's RLS. Filters narrow both sides before fusion.
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
  rrf_k int default 60
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
                                      occurred_from, occurred_to) c
  ),
  semantic as (
    select s.id, row_number() over (order by s.embedding operator(extensions.<=>) query_embedding) as rank_ix
    from public.search_index s
    where s.embedding is not null
      and (object_types is null or s.object_type = any(object_types))
      and (sources is null or s.source = any(sources))
      and (document_ids is null or s.document_id = any(document_ids))
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
  timestamptz, timestamptz, float, float, int) to authenticated;
revoke execute on function public.hybrid_search(text, extensions.vector, int, text[], text[], uuid[],
  timestamptz, timestamptz, float, float, int) from anon, public;

-- Uploaded files: a private Storage bucket, each user's files under a folder named by their id.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('documents', 'documents', false, 10485760, array['text/plain', 'text/markdown', 'application/pdf'])
on conflict (id) do nothing;

create policy "documents bucket: owners read their files" on storage.objects
  for select to authenticated
  using (bucket_id = 'documents' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "documents bucket: owners upload into their folder" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'documents' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "documents bucket: owners delete their files" on storage.objects
  for delete to authenticated
  using (bucket_id = 'documents' and (storage.foldername(name))[1] = (select auth.uid())::text);
