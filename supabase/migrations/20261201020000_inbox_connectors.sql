-- Inbox connectors (Prometheus): linked Slack, Outlook and Telegram accounts, their encrypted
-- tokens, and what they deliver, normalized: threads, events, the people in them (entities), and
-- the user's own notes. Events, threads and notes are indexed for hybrid search through the same
-- job path as documents (index_jobs below, run by the ingest function), and expire after
-- app_settings `inbox.retention`. Column names follow seed 004 section 4.1, so other modules and
-- scripts can write events as it describes: content_hash, importance_score, raw, expires_at and
-- the timestamps have defaults.
--
-- Who may do what through /rest/v1 (tests/security/table_access.ts):
--   linked_accounts, threads, entities   the owner reads; the connectors function writes
--   oauth_tokens                         nobody: not even its owner reads the ciphertext
--   events                               the owner reads and deletes (DELETE /events/:id)
--   notes                                the owner reads and writes (like documents)
--   index_jobs                           the owner and admins read (errors, dead letters)
-- Secrets of the flows (OAuth state and PKCE verifiers, Graph clientState hashes, link codes)
-- live in the private schema, which PostgREST does not serve.

insert into public.app_settings (key, value, description) values
  ('inbox.retention', '"30 days"',
   'events expire this long after they are ingested (expires_at = ingestion time + this)'),
  ('inbox.expired_grace', '"1 minute"',
   'expired events are purged this long after expires_at (search hides them from expires_at on)'),
  ('inbox.raw_max_bytes', '32768',
   'largest platform payload kept in events.raw; larger ones keep their identifying fields only'),
  ('connectors.return_url', 'null',
   'where OAuth callbacks redirect (302, result as query parameters) instead of answering JSON; null: JSON'),
  ('connectors.slack_history', '{"requests_per_minute": 1, "page_size": 15, "max_messages": 300, "max_channels": 20, "days": 7}',
   'Slack backfill after install: conversations.history pace and size (non-Marketplace apps: 1 a minute, 15 a page; Marketplace and internal apps may raise it)'),
  ('connectors.graph_subscription_minutes', '4230',
   'lifetime asked for Graph mail subscriptions (Graph allows up to 10080 without resource data)'),
  ('connectors.graph_renew_before', '"12 hours"',
   'pg_cron renews Graph subscriptions that expire within this'),
  ('connectors.graph_resync_max_messages', '500',
   'a full Outlook resync (after a 410 on the delta link) reads at most this many messages'),
  ('connectors.state_ttl', '"10 minutes"', 'OAuth states and Telegram link codes are valid this long'),
  ('retention.connector_states', '"1 day"', 'expired OAuth states and link codes are purged after this'),
  ('retention.webhook_deliveries', '"7 days"',
   'ids of received webhook deliveries (Slack event_id, Telegram update_id) kept for dedupe this long')
on conflict (key) do nothing;

-- Linked accounts ----------------------------------------------------------------------------
-- provider_account_id: Slack team id, Microsoft user id, Telegram user id. One workspace may be
-- linked by several Aide users: each gets their own row, and its events.
create table public.linked_accounts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  provider text not null check (provider in ('slack', 'telegram', 'outlook')),
  provider_account_id text not null check (char_length(provider_account_id) between 1 and 200),
  scopes text,
  status text not null default 'active' check (status in ('active', 'revoked', 'error')),
  -- What the platform says about the account (team name, mailbox address, Telegram username):
  -- never tokens.
  metadata jsonb not null default '{}'::jsonb check (octet_length(metadata::text) <= 20000),
  last_event_at timestamptz,
  last_error text check (char_length(last_error) <= 2000),
  last_error_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, provider, provider_account_id)
);
create index linked_accounts_user_provider on public.linked_accounts (user_id, provider);
-- Webhooks find every Aide user behind a workspace, mailbox or Telegram user.
create index linked_accounts_provider_account on public.linked_accounts (provider, provider_account_id);

alter table public.linked_accounts enable row level security;
create policy "linked_accounts: owner reads" on public.linked_accounts
  for select to authenticated using (user_id = (select auth.uid()));
-- Connecting and disconnecting go through the connectors function (revocation at the platform).
revoke insert, update, delete on public.linked_accounts from anon, authenticated;

create trigger linked_accounts_touch before update on public.linked_accounts
  for each row execute function private.touch_updated_at();

-- OAuth and bot tokens -----------------------------------------------------------------------
-- *_enc hold `v1.<key id>.<iv>.<ciphertext>` (AES-256-GCM, base64url) with the row's table, id,
-- user and column as additional data (_shared/connectors/tokens.ts): a ciphertext copied into
-- another row or column does not decrypt. No API role may read this table.
create table public.oauth_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  linked_account_id uuid not null references public.linked_accounts (id) on delete cascade,
  token_type text not null check (token_type in ('bearer', 'bot')),
  scopes text,
  access_token_enc text not null check (access_token_enc like 'v1.%'),
  refresh_token_enc text check (refresh_token_enc like 'v1.%'),
  -- The key id of both ciphertexts, so the rotation job finds rows under older keys by index.
  key_id text not null,
  expires_at timestamptz,
  last_refreshed_at timestamptz,
  revoked_at timestamptz,
  -- First 12 hex digits of SHA-256 of the access token: tells tokens apart in support, reveals nothing.
  token_fingerprint text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (linked_account_id, token_type)
);
create index oauth_tokens_user_account on public.oauth_tokens (user_id, linked_account_id);
create index oauth_tokens_key_id on public.oauth_tokens (key_id);

alter table public.oauth_tokens enable row level security;
create policy "oauth_tokens: owner reads (no API role holds the privilege)" on public.oauth_tokens
  for select to authenticated using (user_id = (select auth.uid()));
revoke all on public.oauth_tokens from anon, authenticated;

create trigger oauth_tokens_touch before update on public.oauth_tokens
  for each row execute function private.touch_updated_at();

-- Threads ------------------------------------------------------------------------------------
-- external_id: Slack `<channel>:<thread_ts>`, Graph conversationId, Telegram `<chat id>`.
create table public.threads (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  source text not null check (source in ('slack', 'telegram', 'outlook')),
  external_id text not null check (char_length(external_id) between 1 and 500),
  subject text check (char_length(subject) <= 1000),
  participants jsonb not null default '[]'::jsonb check (jsonb_typeof(participants) = 'array'),
  content_preview text check (char_length(content_preview) <= 2000),
  content_hash text not null default '',
  last_event_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, source, external_id)
);
create index threads_user_source_last on public.threads (user_id, source, last_event_at desc);
create index threads_user_last on public.threads (user_id, last_event_at desc, id desc);

alter table public.threads enable row level security;
create policy "threads: owner reads" on public.threads
  for select to authenticated using (user_id = (select auth.uid()));
revoke insert, update, delete on public.threads from anon, authenticated;

-- Entities: the people (and orgs, projects, topics) the platforms mention -------------------
-- aliases holds normalized keys: `email:dana@acme.com`, `handle:dana`, `slack:T1:U1`,
-- `telegram:42`, `outlook:<address>`, `name:dana smith`. private.merge_person joins entities
-- that share an email or handle (or a platform id) into one, so Dana is one person everywhere.
create table public.entities (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null default 'person' check (kind in ('person', 'org', 'project', 'topic')),
  name text not null check (char_length(name) between 1 and 300),
  aliases jsonb not null default '[]'::jsonb check (jsonb_typeof(aliases) = 'array'),
  metadata jsonb not null default '{}'::jsonb check (octet_length(metadata::text) <= 20000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index entities_user_kind_name on public.entities (user_id, kind, name);
create index entities_aliases on public.entities using gin (aliases);

alter table public.entities enable row level security;
create policy "entities: owner reads" on public.entities
  for select to authenticated using (user_id = (select auth.uid()));
revoke insert, update, delete on public.entities from anon, authenticated;

create trigger entities_touch before update on public.entities
  for each row execute function private.touch_updated_at();

-- Events ---------------------------------------------------------------------------------------
create table public.events (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  source text not null check (source in ('slack', 'telegram', 'outlook', 'calendar')),
  -- Kept when the account is disconnected without ?purge=true.
  source_account_id uuid references public.linked_accounts (id) on delete set null,
  -- Slack `<channel>:<ts>`, Graph message id, Telegram `<chat id>:<message id>`.
  external_id text not null check (char_length(external_id) between 1 and 500),
  thread_id uuid references public.threads (id) on delete set null,
  event_type text not null check (char_length(event_type) between 1 and 50),
  title text check (char_length(title) <= 1000),
  body text check (octet_length(body) <= 200000),
  url text check (char_length(url) <= 2000),
  text_for_embedding text check (octet_length(text_for_embedding) <= 200000),
  -- SHA-256 of what is indexed (set by a trigger): unchanged content is never embedded again.
  content_hash text not null default '',
  -- 0..100, from the signals in _shared/connectors/events.ts (direct message, mention, to vs cc...).
  importance_score smallint not null default 0 check (importance_score between 0 and 100),
  sender_entity_id uuid references public.entities (id) on delete set null,
  occurred_at timestamptz not null,
  -- Ingestion time + inbox.retention, set by a trigger when not given.
  expires_at timestamptz not null,
  deleted_at timestamptz,
  raw jsonb not null default '{}'::jsonb check (octet_length(raw::text) <= 65536),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, source, external_id)
);
create index events_user_source_occurred on public.events (user_id, source, occurred_at desc);
create index events_user_occurred on public.events (user_id, occurred_at desc, id desc);
create index events_user_expires on public.events (user_id, expires_at);
create index events_expires on public.events (expires_at);
create index events_thread on public.events (thread_id);
create index events_source_account on public.events (source_account_id);
create index events_sender_entity on public.events (sender_entity_id);

alter table public.events enable row level security;
create policy "events: owner reads" on public.events
  for select to authenticated using (user_id = (select auth.uid()));
create policy "events: owner deletes" on public.events
  for delete to authenticated using (user_id = (select auth.uid()));
revoke insert, update on public.events from anon, authenticated;

-- Notes: the user's own, searchable like events ------------------------------------------------
create table public.notes (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  title text check (char_length(title) <= 300),
  body text not null check (octet_length(body) <= 200000),
  content_hash text not null default '',
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index notes_user_updated on public.notes (user_id, updated_at desc, id desc);

alter table public.notes enable row level security;
create policy "notes: owner reads" on public.notes
  for select to authenticated using (user_id = (select auth.uid()));
create policy "notes: owner creates" on public.notes
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "notes: owner updates" on public.notes
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "notes: owner deletes" on public.notes
  for delete to authenticated using (user_id = (select auth.uid()));
revoke insert, update on public.notes from anon, authenticated;
grant insert (id, user_id, title, body) on public.notes to authenticated;
grant update (title, body, deleted_at) on public.notes to authenticated;

-- Hashes, expiry, timestamps -------------------------------------------------------------------
create function private.sha256_hex(p_text text) returns text
language sql immutable set search_path = '' as $$
  select encode(sha256(convert_to(coalesce(p_text, ''), 'UTF8')), 'hex')
$$;
revoke execute on function private.sha256_hex(text) from public, anon;
grant execute on function private.sha256_hex(text) to authenticated;

-- What the index holds for each kind of object: one definition, used by the hash triggers and by
-- the ingest function (private.index_text).
create function private.event_index_text(e public.events) returns text
language sql immutable set search_path = '' as $$
  select coalesce(nullif(e.text_for_embedding, ''),
                  concat_ws(E'\n', nullif(e.title, ''), nullif(e.body, '')), '')
$$;
create function private.note_index_text(n public.notes) returns text
language sql immutable set search_path = '' as $$
  select concat_ws(E'\n', nullif(n.title, ''), n.body)
$$;
create function private.thread_index_text(t public.threads) returns text
language sql immutable set search_path = '' as $$
  select concat_ws(E'\n', nullif(t.subject, ''), nullif(t.content_preview, ''))
$$;
revoke execute on function private.event_index_text(public.events) from public, anon;
revoke execute on function private.note_index_text(public.notes) from public, anon;
revoke execute on function private.thread_index_text(public.threads) from public, anon;
grant execute on function private.event_index_text(public.events) to authenticated;
grant execute on function private.note_index_text(public.notes) to authenticated;
grant execute on function private.thread_index_text(public.threads) to authenticated;

create function private.prepare_event() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.content_hash := private.sha256_hex(private.event_index_text(new));
  if tg_op = 'INSERT' and new.expires_at is null then
    new.expires_at := now() + coalesce(
      (select (value #>> '{}')::interval from public.app_settings where key = 'inbox.retention'),
      interval '30 days');
  end if;
  if tg_op = 'UPDATE' then
    new.updated_at := now();
  end if;
  return new;
end $$;
create trigger events_prepare before insert or update on public.events
  for each row execute function private.prepare_event();

create function private.prepare_note() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.content_hash := private.sha256_hex(private.note_index_text(new));
  if tg_op = 'UPDATE' then new.updated_at := now(); end if;
  return new;
end $$;
create trigger notes_prepare before insert or update on public.notes
  for each row execute function private.prepare_note();

create function private.prepare_thread() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.content_hash := private.sha256_hex(private.thread_index_text(new));
  if tg_op = 'UPDATE' then new.updated_at := now(); end if;
  return new;
end $$;
create trigger threads_prepare before insert or update on public.threads
  for each row execute function private.prepare_thread();
revoke execute on function private.prepare_event() from public, anon, authenticated;
revoke execute on function private.prepare_note() from public, anon, authenticated;
revoke execute on function private.prepare_thread() from public, anon, authenticated;

-- Indexing: events, notes and threads through the ingestion job path ----------------------------
-- One job per object, with the same lifecycle as documents' ingestion_jobs (queued, processing,
-- done, dead; attempts with backoff from knowledge.retry_base_seconds, dead after
-- knowledge.max_attempts), dispatched to the ingest function through pg_net with ids only.
-- indexed_hash is the content_hash whose chunks are in search_index.
create table public.index_jobs (
  object_type text not null check (object_type in ('event', 'note', 'thread')),
  object_id uuid not null,
  owner_id uuid not null references auth.users (id) on delete cascade,
  status text not null default 'queued' check (status in ('queued', 'processing', 'done', 'dead')),
  attempts int not null default 0,
  indexed_hash text,
  next_run_at timestamptz not null default now(),
  dispatched_at timestamptz,
  locked_at timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (object_type, object_id)
);
create index index_jobs_owner on public.index_jobs (owner_id);
create index index_jobs_due on public.index_jobs (next_run_at) where status = 'queued';
create index index_jobs_processing on public.index_jobs (locked_at) where status = 'processing';

alter table public.index_jobs enable row level security;
create policy "index_jobs: owner and admins read" on public.index_jobs
  for select to authenticated using (owner_id = (select auth.uid()) or (select private.is_admin()));
revoke insert, update, delete on public.index_jobs from anon, authenticated;

create trigger index_jobs_touch before update on public.index_jobs
  for each row execute function private.touch_updated_at();

create function private.dispatch_index(p_object_type text, p_object_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  base_url text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_functions_url');
  secret text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret');
begin
  if base_url is null or secret is null then
    raise warning 'aide: Vault secrets aide_functions_url / aide_webhook_secret are missing; indexing waits';
    return;
  end if;
  perform net.http_post(
    url := base_url || '/ingest',
    body := jsonb_build_object('object_type', p_object_type, 'object_id', p_object_id),
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || secret),
    timeout_milliseconds := 120000);
  update public.index_jobs set dispatched_at = now()
  where object_type = p_object_type and object_id = p_object_id;
end $$;
revoke execute on function private.dispatch_index(text, uuid) from public, anon, authenticated;

-- After an insert or a change of what is indexed: queue a job unless the index already holds
-- this content. A soft-deleted note or event leaves the index at once.
create function private.queue_index() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  kind text := case tg_table_name when 'events' then 'event' when 'notes' then 'note' else 'thread' end;
  -- As JSON: threads have no deleted_at, notes no expires_at.
  row_now jsonb := to_jsonb(new);
  row_before jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) end;
  indexed text;
begin
  if row_now ->> 'deleted_at' is not null then
    delete from public.search_index where object_type = kind and object_id = new.id;
    delete from public.index_jobs where object_type = kind and object_id = new.id;
    return null;
  end if;
  if tg_op = 'UPDATE' and row_before ->> 'content_hash' = row_now ->> 'content_hash'
     and row_before ->> 'deleted_at' is null then
    if row_before ->> 'expires_at' is distinct from row_now ->> 'expires_at' then
      update public.search_index set expires_at = (row_now ->> 'expires_at')::timestamptz
      where object_type = kind and object_id = new.id;
    end if;
    return null;
  end if;
  select j.indexed_hash into indexed from public.index_jobs j where j.object_type = kind and j.object_id = new.id;
  if indexed is not distinct from row_now ->> 'content_hash' then
    return null;
  end if;
  insert into public.index_jobs (object_type, object_id, owner_id) values (kind, new.id, new.user_id)
  on conflict (object_type, object_id) do update set
    status = 'queued', attempts = 0, next_run_at = now(), last_error = null, locked_at = null;
  perform private.dispatch_index(kind, new.id);
  return null;
end $$;
revoke execute on function private.queue_index() from public, anon, authenticated;

create trigger events_index after insert or update of title, body, text_for_embedding, deleted_at, expires_at
  on public.events for each row execute function private.queue_index();
create trigger notes_index after insert or update of title, body, deleted_at
  on public.notes for each row execute function private.queue_index();
create trigger threads_index after insert or update of subject, content_preview
  on public.threads for each row execute function private.queue_index();

-- Deleting an object (by the user, by retention, by a purge) removes its index rows and job.
create function private.unindex_deleted() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  kind text := case tg_table_name when 'events' then 'event' when 'notes' then 'note' else 'thread' end;
begin
  delete from public.search_index where object_type = kind and object_id = old.id;
  delete from public.index_jobs where object_type = kind and object_id = old.id;
  return null;
end $$;
revoke execute on function private.unindex_deleted() from public, anon, authenticated;

create trigger events_unindex after delete on public.events
  for each row execute function private.unindex_deleted();
create trigger notes_unindex after delete on public.notes
  for each row execute function private.unindex_deleted();
create trigger threads_unindex after delete on public.threads
  for each row execute function private.unindex_deleted();

-- The ingest function's side: claim, read, store, fail (as for documents).
create function private.claim_index(p_object_type text, p_object_id uuid) returns public.index_jobs
language sql security definer set search_path = '' as $$
  update public.index_jobs set status = 'processing', locked_at = now(), attempts = attempts + 1
  where object_type = p_object_type and object_id = p_object_id
    and status = 'queued' and next_run_at <= now()
  returning *
$$;
revoke execute on function private.claim_index(text, uuid) from public, anon, authenticated;

-- The text to index for an object, with what its index rows carry; no row when it is gone.
create function private.index_source(p_object_type text, p_object_id uuid)
returns table (owner_id uuid, title text, content text, content_hash text, source text,
               occurred_at timestamptz, expires_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select e.user_id, e.title, private.event_index_text(e), e.content_hash, e.source, e.occurred_at, e.expires_at
  from public.events e where p_object_type = 'event' and e.id = p_object_id and e.deleted_at is null
  union all
  select n.user_id, n.title, private.note_index_text(n), n.content_hash, 'note', n.updated_at, null
  from public.notes n where p_object_type = 'note' and n.id = p_object_id and n.deleted_at is null
  union all
  select t.user_id, t.subject, private.thread_index_text(t), t.content_hash, t.source, t.last_event_at, null
  from public.threads t where p_object_type = 'thread' and t.id = p_object_id
$$;
revoke execute on function private.index_source(text, uuid) from public, anon, authenticated;

-- Replaces an object's index rows, in one transaction, unless its content changed meanwhile.
-- `chunks` is a JSON array of {content, embedding}.
create function private.store_object_chunks(p_object_type text, p_object_id uuid, p_indexed text, p_chunks jsonb)
returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  src record;
begin
  perform 1 from public.index_jobs where object_type = p_object_type and object_id = p_object_id for update;
  select * into src from private.index_source(p_object_type, p_object_id);
  if src.owner_id is null or src.content_hash is distinct from p_indexed then
    return false;
  end if;
  delete from public.search_index where object_type = p_object_type and object_id = p_object_id;
  insert into public.search_index (owner_id, visibility, object_type, object_id, chunk_index, title, content,
                                   embedding, language, source, occurred_at, expires_at)
  select src.owner_id, 'private', p_object_type, p_object_id, (c.ordinality - 1)::int, src.title,
         c.value ->> 'content', (c.value ->> 'embedding')::extensions.vector,
         coalesce((select (value #>> '{}')::regconfig from public.app_settings where key = 'knowledge.language'), 'english'),
         src.source, src.occurred_at, src.expires_at
  from jsonb_array_elements(p_chunks) with ordinality c;
  update public.index_jobs set status = 'done', locked_at = null, last_error = null, indexed_hash = p_indexed
  where object_type = p_object_type and object_id = p_object_id;
  return true;
end $$;
revoke execute on function private.store_object_chunks(text, uuid, text, jsonb) from public, anon, authenticated;

create function private.fail_index(p_object_type text, p_object_id uuid, p_message text) returns text
language plpgsql security definer set search_path = '' as $$
declare
  job public.index_jobs;
  max_attempts int := coalesce((select value::int from public.app_settings where key = 'knowledge.max_attempts'), 5);
  base int := coalesce((select value::int from public.app_settings where key = 'knowledge.retry_base_seconds'), 30);
begin
  select * into job from public.index_jobs where object_type = p_object_type and object_id = p_object_id for update;
  if job.object_id is null then return null; end if;
  if job.attempts >= max_attempts then
    update public.index_jobs set status = 'dead', locked_at = null, last_error = left(p_message, 2000)
    where object_type = p_object_type and object_id = p_object_id;
    return 'dead';
  end if;
  update public.index_jobs set status = 'queued', locked_at = null, last_error = left(p_message, 2000),
    next_run_at = now() + make_interval(secs => base * power(2, job.attempts - 1))
  where object_type = p_object_type and object_id = p_object_id;
  return 'queued';
end $$;
revoke execute on function private.fail_index(text, uuid, text) from public, anon, authenticated;

-- Recovery steps (aide-recovery, every minute), as for documents.
create function private.recover_stuck_index_jobs(batch_size int) returns int
language sql security definer set search_path = '' as $$
  with stuck as (
    select object_type, object_id from public.index_jobs
    where status = 'processing' and locked_at < now() - interval '10 minutes'
    order by locked_at limit batch_size
    for update skip locked
  ), requeued as (
    update public.index_jobs j set status = 'queued', locked_at = null, next_run_at = now(),
      last_error = coalesce(j.last_error, 'interrupted while processing')
    from stuck where j.object_type = stuck.object_type and j.object_id = stuck.object_id
    returning 1
  )
  select count(*)::int from requeued
$$;
revoke execute on function private.recover_stuck_index_jobs(int) from public, anon, authenticated;

create function private.dispatch_due_index_jobs(batch_size int) returns int
language plpgsql security definer set search_path = '' as $$
declare
  job record;
  sent int := 0;
begin
  for job in
    select object_type, object_id from public.index_jobs
    where status = 'queued' and next_run_at <= now()
      and (dispatched_at is null or dispatched_at < greatest(next_run_at, now() - interval '2 minutes'))
    order by next_run_at limit batch_size
    for update skip locked
  loop
    perform private.dispatch_index(job.object_type, job.object_id);
    sent := sent + 1;
  end loop;
  return sent;
end $$;
revoke execute on function private.dispatch_due_index_jobs(int) from public, anon, authenticated;

insert into private.recovery_steps (name, handler) values
  ('stuck_index_jobs', 'private.recover_stuck_index_jobs'),
  ('due_index_jobs', 'private.dispatch_due_index_jobs')
on conflict (name) do nothing;

-- Entities: one person across sources -----------------------------------------------------------
-- Finds the user's people sharing any of p_aliases (lower-cased keys, see the table comment),
-- merges them into the oldest (aliases and metadata united, events repointed), and returns its
-- id; creates the person when there is none. Serialized per user, so two deliveries naming the
-- same person at once make one entity.
create function private.merge_person(p_user_id uuid, p_name text, p_aliases text[], p_metadata jsonb default '{}')
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  keys text[] := array(select distinct lower(a) from unnest(p_aliases) a where a is not null and a <> '');
  matches uuid[];
  survivor uuid;
  merged_aliases jsonb;
  merged_metadata jsonb := '{}'::jsonb;
  other record;
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('aide:entities:' || p_user_id, 0));
  select array_agg(id order by created_at, id) into matches
  from public.entities where user_id = p_user_id and kind = 'person' and aliases ?| keys;
  if matches is null then
    insert into public.entities (user_id, kind, name, aliases, metadata)
    values (p_user_id, 'person', left(coalesce(nullif(p_name, ''), keys[1], 'unknown'), 300),
            to_jsonb(keys), coalesce(p_metadata, '{}'))
    returning id into survivor;
    return survivor;
  end if;
  survivor := matches[1];
  -- Older entities' metadata first, so the newest facts (this delivery's) win.
  for other in select metadata from public.entities where id = any (matches) order by created_at, id loop
    merged_metadata := merged_metadata || other.metadata;
  end loop;
  select to_jsonb(array_agg(distinct a order by a)) into merged_aliases
  from (select jsonb_array_elements_text(e.aliases) a from public.entities e where e.id = any (matches)
        union select unnest(keys)) x;
  update public.entities s set
    aliases = merged_aliases,
    metadata = merged_metadata || coalesce(p_metadata, '{}'),
    -- A real name beats an address or an id.
    name = case when coalesce(p_name, '') <> '' and (s.name like '%@%' or s.name like '%:%')
                then left(p_name, 300) else s.name end
  where s.id = survivor;
  if cardinality(matches) > 1 then
    update public.events set sender_entity_id = survivor where sender_entity_id = any (matches[2:]);
    delete from public.entities where id = any (matches[2:]);
  end if;
  return survivor;
end $$;
revoke execute on function private.merge_person(uuid, text, text[], jsonb) from public, anon, authenticated;

-- Flow state that must not be readable through the API --------------------------------------------
-- OAuth states (Slack, Outlook with its PKCE verifier) and Telegram link codes: single use, bound
-- to the user who asked, valid for connectors.state_ttl. Only a SHA-256 of the state is stored.
create table private.connector_states (
  state_hash text primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  purpose text not null check (purpose in ('slack_oauth', 'outlook_oauth', 'telegram_link')),
  code_verifier text,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index connector_states_user on private.connector_states (user_id);
create index connector_states_expires on private.connector_states (expires_at);
revoke all on private.connector_states from public, anon, authenticated;

-- Webhook deliveries already handled (Slack event_id, Telegram update_id): a retry is a no-op.
create table private.webhook_deliveries (
  provider text not null,
  delivery_id text not null,
  received_at timestamptz not null default now(),
  primary key (provider, delivery_id)
);
create index webhook_deliveries_received on private.webhook_deliveries (received_at);
revoke all on private.webhook_deliveries from public, anon, authenticated;

-- Graph change-notification subscriptions, one per linked Outlook account. Only a hash of the
-- clientState is kept; delta_link resumes the messages delta query.
create table private.graph_subscriptions (
  linked_account_id uuid primary key references public.linked_accounts (id) on delete cascade,
  subscription_id text unique,
  client_state_hash text,
  expires_at timestamptz,
  delta_link text,
  resync_requested_at timestamptz,
  updated_at timestamptz not null default now()
);
create index graph_subscriptions_expires on private.graph_subscriptions (expires_at);
revoke all on private.graph_subscriptions from public, anon, authenticated;

-- Slack history backfill after install: the channels left to read and the cursor in the current
-- one, paced by connectors.slack_history (next_run_at), run by the pg_cron job below.
create table private.slack_backfills (
  linked_account_id uuid primary key references public.linked_accounts (id) on delete cascade,
  status text not null default 'running' check (status in ('running', 'done', 'error')),
  channels jsonb not null default '[]'::jsonb, -- channel ids still to read, the current one first
  cursor text,
  oldest text, -- Slack ts: read back this far
  next_run_at timestamptz not null default now(),
  requests int not null default 0,
  messages int not null default 0,
  last_error text,
  updated_at timestamptz not null default now()
);
create index slack_backfills_due on private.slack_backfills (next_run_at) where status = 'running';
revoke all on private.slack_backfills from public, anon, authenticated;

-- Telegram Business connections: which linked account a business_connection_id belongs to.
create table private.telegram_business_connections (
  id text primary key,
  linked_account_id uuid not null references public.linked_accounts (id) on delete cascade,
  user_chat_id bigint,
  is_enabled boolean not null default true,
  can_reply boolean not null default false,
  updated_at timestamptz not null default now()
);
create index telegram_business_connections_account on private.telegram_business_connections (linked_account_id);
revoke all on private.telegram_business_connections from public, anon, authenticated;

-- Retention --------------------------------------------------------------------------------------
-- Expired events go a batch at a time, with their index rows (trigger above); search hides them
-- from expires_at on. OAuth states and webhook dedupe ids are trimmed too.
insert into private.retention_rules (name, table_name, time_column, window_setting, condition) values
  ('inbox_events', 'public.events', 'expires_at', 'inbox.expired_grace', null),
  ('connector_states', 'private.connector_states', 'expires_at', 'retention.connector_states', null),
  ('webhook_deliveries', 'private.webhook_deliveries', 'received_at', 'retention.webhook_deliveries', null)
on conflict (name) do nothing;
