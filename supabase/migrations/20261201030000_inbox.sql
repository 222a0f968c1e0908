-- Inbox intelligence (Prometheus, seed 004 sections 5.3 and 6.3): free-text prompts and what
-- they produce, summaries of a window's events, proposals (suggested actions) and drafts
-- (suggested replies), plus opt-in scheduled digests. Tasks found in events go to the planner's
-- shared `tasks` table (origin 'inbox'); events, threads and notes are the connectors'.
--
-- Who may do what through /rest/v1 (tests/security/table_access.ts):
--   prompts, summaries   the owner reads (and deletes summaries); the prompts function writes
--   proposals            the owner reads and decides (status: accepted | dismissed)
--   drafts               the owner reads, edits the text, discards; only POST /drafts/:id/send
--                        sends, and only it writes the send columns
--   inbox_digests        the owner subscribes, changes and unsubscribes
-- Model output is written by the functions on their service connection, never by users: a user
-- cannot plant a "summary" that a later prompt would reuse. Event ids in source_refs have no
-- foreign key (events expire and are purged); the retention rules below purge what cites only
-- events that are gone.

insert into public.app_settings (key, value, description) values
  ('inbox.model', '"gpt-5-mini"', 'model alias for inbox summaries, tasks, search answers and chat'),
  ('inbox.router_model', '"gpt-5-mini"', 'model alias that classifies prompts (cheap)'),
  ('inbox.summary_part_tokens', '12000', 'event text per summary call, in tokens; a bigger window is summarized in parts and merged'),
  ('inbox.summary_token_budget', '96000', 'event text per summary over all parts, in tokens; lower-ranked events beyond it are left out (statistics still count them)'),
  ('inbox.window_max_events', '5000', 'events read from one window at most, most important first'),
  ('inbox.task_max_events', '200', 'events task detection reads, most important first'),
  ('inbox.default_windows', '{"summarize": "24 hours", "task_detection": "7 days", "search": "30 days"}',
   'window per intent when neither the caller nor the prompt gives one'),
  ('inbox.max_repairs', '2', 'repair rounds for model output that fails validation'),
  ('inbox.digest_batch_size', '10', 'digests one pg_cron run hands to the prompts function'),
  ('inbox.max_digests', '5', 'digest subscriptions per user'),
  ('rate_limit.prompts', '{"requests": 20, "window_seconds": 60}', 'POST /prompts per user (each may call models)'),
  ('retention.inbox_outputs', '"1 day"',
   'summaries, proposals and drafts older than this whose cited events are all gone are purged'),
  ('retention.prompts', '"30 days"', 'how long prompt records are kept')
on conflict (key) do nothing;

-- Summaries --------------------------------------------------------------------------------------
-- fingerprint: SHA-256 of the window's events (ids and content hashes), sources and topic. A
-- prompt over the same events finds the row and returns it without a model call.
create table public.summaries (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  window_start timestamptz not null,
  window_end timestamptz not null,
  sources text[],
  topic text check (char_length(topic) <= 200),
  fingerprint text not null,
  -- seed 004 5.3 `content`: {overview, key_events: [{event_id, source, title, timestamp}],
  -- themes, statistics: {total_events, by_source}}; statistics are counted in SQL.
  content_json jsonb not null check (jsonb_typeof(content_json) = 'object'),
  source_refs jsonb not null default '[]'::jsonb check (jsonb_typeof(source_refs) = 'array'),
  -- How it was made: events in the window and summarized, parts, citations dropped.
  meta jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (window_end > window_start),
  unique (user_id, fingerprint)
);
create index summaries_user_window on public.summaries (user_id, window_start, window_end);
create index summaries_user_created on public.summaries (user_id, created_at desc, id desc);
create index summaries_created on public.summaries (created_at);

alter table public.summaries enable row level security;
create policy "summaries: owner reads" on public.summaries
  for select to authenticated using (user_id = (select auth.uid()));
create policy "summaries: owner deletes" on public.summaries
  for delete to authenticated using (user_id = (select auth.uid()));
revoke insert, update on public.summaries from anon, authenticated;
select private.restrict_to_allowed_accounts('public.summaries');

-- Prompts ----------------------------------------------------------------------------------------
create table public.prompts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  prompt text not null check (char_length(prompt) between 1 and 4000),
  -- The caller's context as sent ({sources, time_window, priority, intent}): it wins over inference.
  context jsonb not null default '{}'::jsonb check (jsonb_typeof(context) = 'object'),
  intent text check (intent in ('summarize', 'task_detection', 'search', 'chat')),
  window_start timestamptz,
  window_end timestamptz,
  -- context | prompt (a time phrase) | model (a phrase the router pointed at) | default
  window_from text check (window_from in ('context', 'prompt', 'model', 'default')),
  sources text[],
  priority text check (priority in ('low', 'medium', 'high')),
  topic text check (char_length(topic) <= 200),
  status text not null default 'running' check (status in ('running', 'complete', 'error')),
  error jsonb,
  -- What it produced.
  summary_id uuid references public.summaries (id) on delete set null,
  task_ids uuid[] not null default '{}',
  proposal_ids uuid[] not null default '{}',
  draft_ids uuid[] not null default '{}',
  conversation_id uuid references public.conversations (id) on delete set null,
  digest_id uuid,
  -- The answer as sent (`response` of the seed's shape).
  response jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index prompts_user_created on public.prompts (user_id, created_at desc, id desc);
create index prompts_created on public.prompts (created_at);
create index prompts_summary on public.prompts (summary_id);
create index prompts_conversation on public.prompts (conversation_id);

alter table public.prompts enable row level security;
create policy "prompts: owner reads" on public.prompts
  for select to authenticated using (user_id = (select auth.uid()));
revoke insert, update, delete on public.prompts from anon, authenticated;
select private.restrict_to_allowed_accounts('public.prompts');

create trigger prompts_touch before update on public.prompts
  for each row execute function private.touch_updated_at();

-- Proposals: suggested actions -------------------------------------------------------------------
-- content_json: {kind: follow_up | schedule | reply | delegate | other, title, description,
-- event_id}. Accepting a follow_up or schedule proposal creates (or finds) its task.
create table public.proposals (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  prompt_id uuid references public.prompts (id) on delete set null,
  window_start timestamptz not null,
  window_end timestamptz not null,
  content_json jsonb not null check (jsonb_typeof(content_json) = 'object'),
  source_refs jsonb not null default '[]'::jsonb check (jsonb_typeof(source_refs) = 'array'),
  -- The event it is about: one pending proposal of a kind per event.
  source_event_id uuid,
  kind text not null check (kind in ('follow_up', 'schedule', 'reply', 'delegate', 'other')),
  status text not null default 'pending' check (status in ('pending', 'accepted', 'dismissed')),
  decided_at timestamptz,
  -- The task accepting it made (tasks sort after this file, hence no foreign key).
  task_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index proposals_user_window on public.proposals (user_id, window_start, window_end);
create index proposals_user_created on public.proposals (user_id, status, created_at desc, id desc);
create index proposals_created on public.proposals (created_at);
create index proposals_prompt on public.proposals (prompt_id);
create index proposals_task on public.proposals (task_id);
create unique index proposals_pending_per_event on public.proposals (user_id, source_event_id, kind)
  where status = 'pending' and source_event_id is not null;

alter table public.proposals enable row level security;
create policy "proposals: owner reads" on public.proposals
  for select to authenticated using (user_id = (select auth.uid()));
create policy "proposals: owner decides" on public.proposals
  for update to authenticated using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
revoke insert, update, delete on public.proposals from anon, authenticated;
grant update (status) on public.proposals to authenticated;
select private.restrict_to_allowed_accounts('public.proposals');

-- A decision is final: pending -> accepted | dismissed, once.
create function private.decide_proposal() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.status is distinct from old.status then
    if old.status <> 'pending' then
      raise exception 'proposal % is already %', old.id, old.status using errcode = '23514';
    end if;
    new.decided_at := now();
  end if;
  new.updated_at := now();
  return new;
end $$;
revoke execute on function private.decide_proposal() from public, anon, authenticated;
create trigger proposals_decide before update on public.proposals
  for each row execute function private.decide_proposal();

-- Drafts: suggested replies ----------------------------------------------------------------------
-- content_json: {text, subject?}; kind says where it goes (the source event's thread or chat;
-- `note` becomes a note). status: draft -> sending -> sent | failed (failed may be retried);
-- discarded by the owner. A draft is sent at most once: POST /drafts/:id/send claims it with a
-- compare-and-set on status.
create table public.drafts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  prompt_id uuid references public.prompts (id) on delete set null,
  kind text not null check (kind in ('slack_reply', 'telegram_reply', 'outlook_reply', 'note')),
  content_json jsonb not null check (jsonb_typeof(content_json) = 'object'
    and jsonb_typeof(content_json -> 'text') = 'string'
    and octet_length(content_json ->> 'text') between 1 and 40000),
  content_hash text not null default '',
  source_refs jsonb not null default '[]'::jsonb check (jsonb_typeof(source_refs) = 'array'),
  source_event_id uuid,
  status text not null default 'draft'
    check (status in ('draft', 'sending', 'sent', 'failed', 'discarded')),
  send_attempts int not null default 0,
  sent_at timestamptz,
  -- The platform's id of what was sent (Slack ts, Graph message id, Telegram message_id, note id).
  sent_external_id text,
  send_error text check (char_length(send_error) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index drafts_user_kind_created on public.drafts (user_id, kind, created_at desc);
create index drafts_user_created on public.drafts (user_id, created_at desc, id desc);
create index drafts_created on public.drafts (created_at);
create index drafts_prompt on public.drafts (prompt_id);
-- One open draft per event and kind: task detection run twice updates it.
create unique index drafts_open_per_event on public.drafts (user_id, source_event_id, kind)
  where status = 'draft' and source_event_id is not null;

alter table public.drafts enable row level security;
create policy "drafts: owner reads" on public.drafts
  for select to authenticated using (user_id = (select auth.uid()));
create policy "drafts: owner edits" on public.drafts
  for update to authenticated using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
revoke insert, update, delete on public.drafts from anon, authenticated;
grant update (content_json, status) on public.drafts to authenticated;
select private.restrict_to_allowed_accounts('public.drafts');

-- Users edit and discard drafts; only the send path (the function's own role) moves a draft to
-- sending, sent or failed, and nothing changes a draft once it is being sent or sent.
create function private.guard_draft() returns trigger
language plpgsql set search_path = '' as $$
begin
  if old.status in ('sending', 'sent') and current_user in ('authenticated', 'anon') then
    raise exception 'draft % is %: it can no longer change', old.id, old.status using errcode = '23514';
  end if;
  if current_user in ('authenticated', 'anon') and new.status is distinct from old.status
     and new.status not in ('draft', 'discarded') then
    raise exception 'only sending a draft sets its status to %', new.status using errcode = '42501';
  end if;
  new.content_hash := encode(sha256(convert_to(new.content_json ->> 'text', 'UTF8')), 'hex');
  new.updated_at := now();
  return new;
end $$;
revoke execute on function private.guard_draft() from public, anon, authenticated;
create trigger drafts_guard before insert or update on public.drafts
  for each row execute function private.guard_draft();

-- Digests: a scheduled summary the user opted in to -----------------------------------------------
-- hourly, or daily at local_time in the user's profile time zone (a user may have several, e.g.
-- hourly for Slack and daily for mail); next_run_at is kept by the
-- trigger. The pg_cron job aide-inbox-digests hands due ones to the prompts function in batches.
create table public.inbox_digests (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  frequency text not null check (frequency in ('hourly', 'daily')),
  local_time time not null default '08:00',
  sources text[] check (sources <@ array['slack', 'telegram', 'outlook']::text[]),
  enabled boolean not null default true,
  next_run_at timestamptz,
  last_run_at timestamptz,
  last_summary_id uuid references public.summaries (id) on delete set null,
  last_error text check (char_length(last_error) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index inbox_digests_user on public.inbox_digests (user_id);
create index inbox_digests_due on public.inbox_digests (next_run_at) where enabled;
create index inbox_digests_last_summary on public.inbox_digests (last_summary_id);

alter table public.inbox_digests enable row level security;
create policy "inbox_digests: owner reads" on public.inbox_digests
  for select to authenticated using (user_id = (select auth.uid()));
create policy "inbox_digests: owner subscribes" on public.inbox_digests
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "inbox_digests: owner changes" on public.inbox_digests
  for update to authenticated using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy "inbox_digests: owner unsubscribes" on public.inbox_digests
  for delete to authenticated using (user_id = (select auth.uid()));
revoke insert, update on public.inbox_digests from anon, authenticated;
grant insert (id, user_id, frequency, local_time, sources, enabled) on public.inbox_digests to authenticated;
grant update (frequency, local_time, sources, enabled) on public.inbox_digests to authenticated;
select private.restrict_to_allowed_accounts('public.inbox_digests');

-- The next run after p_after: the next full hour, or the next local_time in the user's zone.
create function private.next_digest_run(p_user uuid, p_frequency text, p_local_time time,
                                        p_after timestamptz) returns timestamptz
language sql stable set search_path = '' as $$
  with z as (
    select coalesce((select p.timezone from public.profiles p where p.id = p_user), 'UTC') as tz
  ), today as (
    select ((date_trunc('day', p_after at time zone z.tz) + p_local_time) at time zone z.tz) as at
    from z
  )
  select case p_frequency
    when 'hourly' then date_trunc('hour', p_after) + interval '1 hour'
    else (select case when t.at > p_after then t.at
                      else ((date_trunc('day', p_after at time zone z.tz) + interval '1 day' + p_local_time)
                            at time zone z.tz) end
          from today t, z)
  end
$$;
revoke execute on function private.next_digest_run(uuid, text, time, timestamptz) from public, anon, authenticated;

-- Definer: it reads the owner's time zone through private.next_digest_run, which no API role runs.
-- A user has at most inbox.max_digests subscriptions: each one is model calls on a schedule.
create function private.schedule_digest() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  max_digests int := coalesce((select (value #>> '{}')::int from public.app_settings
                               where key = 'inbox.max_digests'), 5);
begin
  if tg_op = 'INSERT' and (select count(*) from public.inbox_digests d where d.user_id = new.user_id) >= max_digests then
    raise exception 'at most % digests per user', max_digests
      using errcode = 'PT403', hint = 'quota_exceeded',
            detail = pg_catalog.jsonb_build_object('quota', 'digests', 'limit', max_digests)::text;
  end if;
  if tg_op = 'INSERT' or new.frequency is distinct from old.frequency
     or new.local_time is distinct from old.local_time or (new.enabled and not old.enabled) then
    new.next_run_at := private.next_digest_run(new.user_id, new.frequency, new.local_time, now());
  end if;
  new.updated_at := now();
  return new;
end $$;
revoke execute on function private.schedule_digest() from public, anon, authenticated;
create trigger inbox_digests_schedule before insert or update on public.inbox_digests
  for each row execute function private.schedule_digest();

-- Claims up to inbox.digest_batch_size due digests (skip locked: two runs never take the same),
-- moves each to its next run, and sends their ids to the prompts function through pg_net with
-- the Vault webhook secret; the function summarizes each through the same path as POST /prompts.
-- A digest whose call is lost runs again at its next time.
create function private.dispatch_digests() returns int
language plpgsql security definer set search_path = '' as $$
declare
  base_url text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_functions_url');
  secret text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret');
  batch int := coalesce((select (value #>> '{}')::int from public.app_settings
                         where key = 'inbox.digest_batch_size'), 10);
  ids uuid[];
begin
  if base_url is null or secret is null then
    raise warning 'aide: Vault secrets aide_functions_url / aide_webhook_secret are missing; digests wait';
    return 0;
  end if;
  with due as (
    select d.id from public.inbox_digests d
    where d.enabled and d.next_run_at <= now()
    order by d.next_run_at limit batch for update skip locked
  ), moved as (
    update public.inbox_digests d
    set next_run_at = private.next_digest_run(d.user_id, d.frequency, d.local_time, now())
    from due where d.id = due.id
    returning d.id
  )
  select array_agg(id) into ids from moved;
  if ids is null then
    return 0;
  end if;
  perform net.http_post(
    url := base_url || '/prompts/digests',
    body := jsonb_build_object('digest_ids', to_jsonb(ids)),
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || secret),
    timeout_milliseconds := 300000);
  return cardinality(ids);
end $$;
revoke execute on function private.dispatch_digests() from public, anon, authenticated;

select cron.schedule('aide-inbox-digests', '*/5 * * * *', 'select private.dispatch_digests()');

-- Retention --------------------------------------------------------------------------------------
-- Summaries, proposals and drafts go once every event they cite is gone (expired events are
-- purged by the connectors' rule); prompt records after retention.prompts.
insert into private.retention_rules (name, table_name, time_column, window_setting, condition) values
  ('inbox_prompts', 'public.prompts', 'created_at', 'retention.prompts', null),
  ('inbox_summaries', 'public.summaries', 'created_at', 'retention.inbox_outputs',
   'not exists (select 1 from jsonb_array_elements(source_refs) r join public.events e on e.id = (r ->> ''id'')::uuid)'),
  ('inbox_proposals', 'public.proposals', 'created_at', 'retention.inbox_outputs',
   'not exists (select 1 from jsonb_array_elements(source_refs) r join public.events e on e.id = (r ->> ''id'')::uuid)'),
  ('inbox_drafts', 'public.drafts', 'created_at', 'retention.inbox_outputs',
   'status <> ''sending'' and not exists (select 1 from jsonb_array_elements(source_refs) r join public.events e on e.id = (r ->> ''id'')::uuid)')
on conflict (name) do nothing;
