-- Scheduled work (pg_cron): retention rules as data, purged by one generic function in bounded
-- batches; a recovery sweeper for work interrupted by the platform's wall-clock limit; and a
-- record of every run in public.job_runs.
--
-- This file is re-runnable: applying it again leaves the same objects, rules, settings, and one
-- pg_cron job per name (cron.schedule upserts by name).
--
-- Jobs:
--   aide-retention  every 10 minutes  call private.run_job('retention')
--   aide-recovery   every minute      call private.run_job('recovery')
--
-- Both jobs run the same procedure: it takes the job's steps (retention rules, or recovery
-- steps) and works through them round-robin, one batch per step at a time, committing after
-- every batch so no batch holds its locks longer than it runs, until each step has nothing left,
-- fails, or the run's time budget is spent.

-- Settings: every window and budget is configuration, read at run time ----------------------
insert into public.app_settings (key, value, description) values
  ('retention.deleted_conversations', '"30 days"',
   'grace period after which soft-deleted conversations, their messages and usage detail are purged'),
  ('retention.usage_ledger', '"90 days"',
   'usage_ledger detail kept this long (daily totals stay in usage_daily)'),
  ('retention.cron_history', '"7 days"', 'pg_cron run history (cron.job_run_details) kept this long'),
  ('retention.http_responses', '"1 day"', 'pg_net responses (net._http_response) kept this long'),
  ('retention.job_runs', '"30 days"', 'records of scheduled job runs (job_runs) kept this long'),
  ('scheduled.retention_time_budget', '"60 seconds"',
   'longest a retention run works before leaving the rest to the next run'),
  ('scheduled.recovery_time_budget', '"30 seconds"',
   'longest a recovery run works before leaving the rest to the next run'),
  ('platform.wall_clock_limit', '"400 seconds"',
   'longest a function invocation can run (Supabase: 150 s free plan, 400 s paid); work a function '
   'started that has not progressed for longer than this is recovered as interrupted')
on conflict (key) do nothing;

-- Reads an app_settings value holding an interval as a JSON string, e.g. "30 days".
create or replace function private.interval_setting(p_key text) returns interval
language sql stable security definer set search_path = '' as $$
  select (value #>> '{}')::interval from public.app_settings where key = p_key
$$;
revoke execute on function private.interval_setting(text) from public, anon, authenticated;

-- Run records: what every scheduled run did, one row per step (rule or recovery step) --------
create table if not exists public.job_runs (
  id bigint generated always as identity primary key,
  run_id uuid not null,
  job text not null check (job in ('retention', 'recovery')),
  step text not null,
  -- running: in progress (or the run died: the recovery job marks it failed after an hour);
  -- done: nothing left; partial: stopped by the time budget (or a batch limit), more is left;
  -- skipped: another run was working on this step; failed: see error.
  status text not null default 'running'
    check (status in ('running', 'done', 'partial', 'skipped', 'failed')),
  rows_affected bigint not null default 0, -- rows deleted (retention) or recovered (recovery)
  batches int not null default 0,
  longest_batch_ms int,
  started_at timestamptz not null default clock_timestamp(),
  finished_at timestamptz,
  duration_ms int,
  error text
);
create index if not exists job_runs_started_at on public.job_runs (started_at);
create index if not exists job_runs_run_id on public.job_runs (run_id);
create index if not exists job_runs_step on public.job_runs (job, step, started_at desc);
create index if not exists job_runs_running on public.job_runs (started_at) where status = 'running';

alter table public.job_runs enable row level security;
drop policy if exists "job_runs: admins read" on public.job_runs;
create policy "job_runs: admins read" on public.job_runs
  for select to authenticated using ((select private.is_admin()));
-- Only the jobs write here (as the table owner); users, even admins, only read.
revoke all on public.job_runs from anon, authenticated;
grant select on public.job_runs to authenticated;

-- Retention rules ---------------------------------------------------------------------------
-- A rule purges the rows of table_name whose time_column is older than now() minus the interval
-- in app_settings[window_setting], and that match condition (an SQL boolean expression on the
-- row; columns unqualified, or qualified with the table's bare name). Registering one is one
-- insert here plus its window in app_settings; see README "Scheduled work and retention".
-- Only migrations (the postgres role) write rules: condition is trusted SQL.
create table if not exists private.retention_rules (
  name text primary key,
  table_name regclass not null,
  time_column text not null,
  window_setting text not null,
  condition text,
  batch_size int not null default 1000 check (batch_size > 0)
);
revoke all on private.retention_rules from public, anon, authenticated;

-- Recovery steps ----------------------------------------------------------------------------
-- A step names a function `handler(batch_size int) returns int` that recovers at most
-- batch_size stuck items (locking them with `for update skip locked`) and returns how many it
-- recovered; the recovery job calls it until it returns 0. (A name, not a regprocedure column:
-- pg_upgrade refuses tables with regprocedure columns.)
create table if not exists private.recovery_steps (
  name text primary key,
  handler text not null,
  batch_size int not null default 100 check (batch_size > 0)
);
revoke all on private.recovery_steps from public, anon, authenticated;

-- One advisory lock key per (job, step): at most one batch of a step runs at a time, so two
-- runs never work the same step at once and cascades of one step never meet each other.
create or replace function private.job_lock_key(p_job text, p_step text) returns bigint
language sql immutable set search_path = '' as $$
  select pg_catalog.hashtextextended(p_job || ':' || p_step, 0)
$$;
revoke execute on function private.job_lock_key(text, text) from public, anon, authenticated;

-- Deletes one batch of a rule's expired rows and returns how many it deleted, or null when
-- another run holds the rule. Newest expired rows go first: in a self-referencing table
-- (messages.parent_id) children are newer than their parents, so cascades stay in the batch.
create or replace function private.purge_batch(p_rule text, p_batch_size int default null)
returns int
language plpgsql security definer set search_path = '' set lock_timeout = '1s' as $$
declare
  r private.retention_rules;
  kind "char";
  keep interval;
  deleted int;
begin
  select * into r from private.retention_rules where name = p_rule;
  if not found then
    raise exception 'no retention rule named %', p_rule;
  end if;
  if not pg_catalog.pg_try_advisory_xact_lock(private.job_lock_key('retention', r.name)) then
    return null;
  end if;

  select relkind into kind from pg_catalog.pg_class where oid = r.table_name;
  if kind is null then
    raise exception 'retention rule %: table % no longer exists', r.name, r.table_name::oid;
  elsif kind <> 'r' then
    -- ctid identifies a row only within one table; partitions are better dropped than purged.
    raise exception 'retention rule %: % is not a plain table', r.name, r.table_name;
  end if;
  if not exists (select 1 from pg_catalog.pg_attribute
                 where attrelid = r.table_name and attname = r.time_column
                   and attnum > 0 and not attisdropped) then
    raise exception 'retention rule %: % has no column %', r.name, r.table_name, r.time_column;
  end if;
  keep := private.interval_setting(r.window_setting);
  if keep is null or keep <= interval '0' then
    raise exception 'retention rule %: app_settings % must be a positive interval such as "30 days"',
      r.name, r.window_setting;
  end if;

  execute format(
    'delete from %1$s where ctid = any (array(
       select ctid from %1$s where %2$I < $1 and (%3$s)
       order by %2$I desc limit $2 for update skip locked))',
    r.table_name, r.time_column, coalesce(r.condition, 'true'))
  using now() - keep, coalesce(p_batch_size, r.batch_size);
  get diagnostics deleted = row_count;
  return deleted;
end $$;
revoke execute on function private.purge_batch(text, int) from public, anon, authenticated;

-- Runs one batch of a recovery step and returns how many items it recovered, or null when
-- another run holds the step.
create or replace function private.recover_batch(p_step text, p_batch_size int default null)
returns int
language plpgsql security definer set search_path = '' set lock_timeout = '1s' as $$
declare
  s private.recovery_steps;
  handler regprocedure;
  recovered int;
begin
  select * into s from private.recovery_steps where name = p_step;
  if not found then
    raise exception 'no recovery step named %', p_step;
  end if;
  if not pg_catalog.pg_try_advisory_xact_lock(private.job_lock_key('recovery', s.name)) then
    return null;
  end if;
  handler := pg_catalog.to_regprocedure(s.handler || '(integer)');
  if handler is null then
    raise exception 'recovery step %: no function %(integer)', s.name, s.handler;
  end if;
  execute format('select %s($1)', handler::oid::regproc)
    using coalesce(p_batch_size, s.batch_size) into recovered;
  return coalesce(recovered, 0);
end $$;
revoke execute on function private.recover_batch(text, int) from public, anon, authenticated;

-- The entry point of both jobs. A procedure, so that it can commit after every batch; for the
-- same reason it cannot be SECURITY DEFINER or carry `set search_path` (Postgres forbids
-- transaction control in either), so it names every object with its schema, runs only as its
-- owner (pg_cron, tests), and leaves the work itself to the definer functions above.
--
-- p_steps: only these rules/steps (tests, manual runs); null: all of them.
-- p_batch_size: instead of each step's own batch size. p_max_batches: per step, per run.
-- p_time_budget: instead of app_settings scheduled.<job>_time_budget.
-- p_run_id: returned (and may be given): the run's rows in public.job_runs share it.
create or replace procedure private.run_job(
  p_job text,
  p_steps text[] default null,
  p_batch_size int default null,
  p_max_batches int default null,
  p_time_budget interval default null,
  inout p_run_id uuid default null)
language plpgsql as $$
declare
  steps text[];
  record_ids bigint[] := '{}';
  step_status text[] := '{}';
  step_batches int[] := '{}';
  step_longest int[] := '{}';
  deadline timestamptz;
  running int;
  i int;
  n int;
  record_id bigint;
  err text;
  batch_started timestamptz;
begin
  if p_job = 'retention' then
    select pg_catalog.array_agg(name order by name collate "C") into steps
    from private.retention_rules where p_steps is null or name = any (p_steps);
  elsif p_job = 'recovery' then
    select pg_catalog.array_agg(name order by name collate "C") into steps
    from private.recovery_steps where p_steps is null or name = any (p_steps);
  else
    raise exception 'unknown job %: expected retention or recovery', p_job;
  end if;
  steps := coalesce(steps, '{}');
  p_run_id := coalesce(p_run_id, pg_catalog.gen_random_uuid());
  deadline := pg_catalog.clock_timestamp() + coalesce(p_time_budget,
    private.interval_setting('scheduled.' || p_job || '_time_budget'), interval '30 seconds');

  -- One record per step, committed first so a long run shows up as running.
  for i in 1 .. pg_catalog.cardinality(steps) loop
    insert into public.job_runs (run_id, job, step) values (p_run_id, p_job, steps[i])
    returning id into record_id;
    record_ids[i] := record_id;
    step_status[i] := 'running';
    step_batches[i] := 0;
  end loop;
  commit;

  running := pg_catalog.cardinality(steps);
  while running > 0 loop
    for i in 1 .. pg_catalog.cardinality(steps) loop
      continue when step_status[i] <> 'running';
      err := null;
      n := 0;
      if pg_catalog.clock_timestamp() >= deadline
         or (p_max_batches is not null and step_batches[i] >= p_max_batches) then
        step_status[i] := 'partial';
      else
        batch_started := pg_catalog.clock_timestamp();
        begin
          if p_job = 'retention' then
            n := private.purge_batch(steps[i], p_batch_size);
          else
            n := private.recover_batch(steps[i], p_batch_size);
          end if;
        exception when others then
          err := sqlerrm;
        end;
        if err is not null then
          step_status[i] := 'failed';
        elsif n is null then
          step_status[i] := case when step_batches[i] = 0 then 'skipped' else 'partial' end;
        else
          step_batches[i] := step_batches[i] + 1;
          -- Counted in the batch's own transaction: the record matches what was committed.
          update public.job_runs set rows_affected = rows_affected + n, batches = step_batches[i]
          where id = record_ids[i];
          commit;
          step_longest[i] := greatest(coalesce(step_longest[i], 0), (extract(epoch from
            pg_catalog.clock_timestamp() - batch_started) * 1000)::int);
          if n = 0 then
            step_status[i] := 'done';
          end if;
        end if;
      end if;

      if step_status[i] <> 'running' then
        update public.job_runs set
          status = step_status[i], error = err, longest_batch_ms = step_longest[i],
          finished_at = pg_catalog.clock_timestamp(),
          duration_ms = (extract(epoch from pg_catalog.clock_timestamp() - started_at) * 1000)::int
        where id = record_ids[i];
        commit;
        running := running - 1;
      end if;
    end loop;
  end loop;
end $$;
revoke execute on procedure private.run_job(text, text[], int, int, interval, uuid)
  from public, anon, authenticated;

-- Recovery: assistant messages whose generator died ------------------------------------------
-- A live reply bumps messages.updated_at at least every second (its heartbeat), and no function
-- outlives platform.wall_clock_limit; a reply without progress for that long will never finish.
-- It ends as an error with error_type 'interrupted', its partial text kept and an error part
-- appended, finalized by finish_message (token totals summed from the ledger).
create or replace function private.recover_stuck_messages(p_batch_size int) returns int
language plpgsql security definer set search_path = '' as $$
declare
  failure constant jsonb := jsonb_build_object(
    'code', 'interrupted',
    'message', 'The reply was interrupted before it finished; the text generated so far is kept.');
  m record;
  recovered int := 0;
begin
  for m in
    select id, parts, content, created_at, updated_at from public.messages
    where status in ('pending', 'streaming') and role = 'assistant'
      and updated_at < now() - coalesce(private.interval_setting('platform.wall_clock_limit'),
                                        interval '400 seconds')
    order by updated_at, id
    limit p_batch_size
    for update skip locked
  loop
    perform private.finish_message(
      m.id, 'error', m.parts || jsonb_build_array(jsonb_build_object('type', 'error') || failure),
      m.content, 'error', (extract(epoch from m.updated_at - m.created_at) * 1000)::int,
      'interrupted', failure);
    recovered := recovered + 1;
  end loop;
  return recovered;
end $$;
revoke execute on function private.recover_stuck_messages(int) from public, anon, authenticated;

-- Recovery: a run that died (killed, crashed) leaves its steps 'running'; after an hour (runs
-- stop within their time budget of seconds) they are marked failed so admins see it.
create or replace function private.recover_stale_job_runs(p_batch_size int) returns int
language sql security definer set search_path = '' as $$
  with stale as (
    select id from public.job_runs
    where status = 'running' and started_at < now() - interval '1 hour'
    order by started_at limit p_batch_size
    for update skip locked
  ), marked as (
    update public.job_runs j set status = 'failed', finished_at = now(),
      error = 'interrupted: the run ended before finishing this step'
    from stale where j.id = stale.id
    returning 1
  )
  select count(*)::int from marked
$$;
revoke execute on function private.recover_stale_job_runs(int) from public, anon, authenticated;

insert into private.recovery_steps (name, handler) values
  ('stuck_messages', 'private.recover_stuck_messages'),
  ('stale_job_runs', 'private.recover_stale_job_runs')
on conflict (name) do nothing;

-- Retention rules for the tables that exist now ----------------------------------------------
-- A soft-deleted conversation is purged after its grace period. Its messages and its usage
-- detail go first, a batch at a time, newest first, one conversation per batch (an index range
-- scan), so that deleting a conversation with many messages never cascades through all of them
-- in one statement; the conversation itself goes once nothing points at it any more. (The
-- foreign keys still cascade, e.g. when a user's account is deleted.) The rule names sort in
-- the order the run visits them: children first.
insert into private.retention_rules (name, table_name, time_column, window_setting, condition)
values
  ('deleted_conversation_messages', 'public.messages', 'created_at',
   'retention.deleted_conversations',
   $$conversation_id = (
       select c.id from public.conversations c
       where c.deleted_at < now() - private.interval_setting('retention.deleted_conversations')
         and exists (select 1 from public.messages m where m.conversation_id = c.id
           and m.created_at < now() - private.interval_setting('retention.deleted_conversations'))
       order by c.deleted_at desc, c.id desc limit 1)$$),
  ('deleted_conversation_usage', 'public.usage_ledger', 'created_at',
   'retention.deleted_conversations',
   $$conversation_id = (
       select c.id from public.conversations c
       where c.deleted_at < now() - private.interval_setting('retention.deleted_conversations')
         and exists (select 1 from public.usage_ledger l where l.conversation_id = c.id
           and l.created_at < now() - private.interval_setting('retention.deleted_conversations'))
       order by c.deleted_at desc, c.id desc limit 1)$$),
  ('deleted_conversations', 'public.conversations', 'deleted_at',
   'retention.deleted_conversations',
   $$deleted_at is not null
     and not exists (select 1 from public.messages m where m.conversation_id = conversations.id)
     and not exists (select 1 from public.usage_ledger l where l.conversation_id = conversations.id)$$),
  ('usage_ledger', 'public.usage_ledger', 'created_at', 'retention.usage_ledger', null),
  ('cron_history', 'cron.job_run_details', 'end_time', 'retention.cron_history', null),
  ('http_responses', 'net._http_response', 'created', 'retention.http_responses', null),
  ('job_runs', 'public.job_runs', 'started_at', 'retention.job_runs', null)
on conflict (name) do nothing;

-- Jobs ------------------------------------------------------------------------------------------
select cron.schedule('aide-retention', '*/10 * * * *', $$call private.run_job('retention')$$);
select cron.schedule('aide-recovery', '* * * * *', $$call private.run_job('recovery')$$);

