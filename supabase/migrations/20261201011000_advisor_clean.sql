-- What Supabase's security advisor (splinter) and `supabase db lint` reported on the schema:
--   function_search_path_mutable on private.run_job: a procedure that commits cannot carry
--     `set search_path`, so the jobs no longer run a procedure. Each batch is a function call
--     of its own (with its search_path fixed), and the loop that commits between batches is a
--     DO block: the pg_cron command itself.
--   unsupported_reg_types on search_index.language: a regconfig column blocks pg_upgrade, so the
--     text search configuration's name is stored as text.
-- tests/db/10_security.sql checks both rules on every function and column.
--
-- Re-runnable, like the scheduled-work migration it changes.

-- Scheduled jobs -----------------------------------------------------------------------------
-- A run's options, kept between its batches (each batch is its own transaction). Removed when
-- the run ends; a run that was killed leaves its row, removed by the next run an hour later.
create table if not exists private.job_run_plans (
  run_id uuid primary key,
  job text not null check (job in ('retention', 'recovery')),
  deadline timestamptz not null,
  batch_size int check (batch_size > 0),   -- instead of each step's own batch size
  max_batches int check (max_batches > 0), -- per step, per run
  created_at timestamptz not null default now()
);
revoke all on private.job_run_plans from public, anon, authenticated;

-- Starts a run of `p_job` (retention or recovery): one public.job_runs record per step (rule or
-- recovery step), and the run's plan. Returns the run id. Commit before the first batch, so a
-- long run shows up as running.
-- p_steps: only these rules/steps (tests, manual runs); null: all of them.
-- p_time_budget: instead of app_settings scheduled.<job>_time_budget.
create or replace function private.start_job(
  p_job text,
  p_steps text[] default null,
  p_batch_size int default null,
  p_max_batches int default null,
  p_time_budget interval default null,
  p_run_id uuid default null
) returns uuid
language plpgsql set search_path = '' as $$
declare
  new_run_id uuid := coalesce(p_run_id, pg_catalog.gen_random_uuid());
begin
  if p_job not in ('retention', 'recovery') then
    raise exception 'unknown job %: expected retention or recovery', p_job;
  end if;
  delete from private.job_run_plans where created_at < now() - interval '1 hour';
  insert into private.job_run_plans (run_id, job, deadline, batch_size, max_batches)
  values (new_run_id, p_job,
          pg_catalog.clock_timestamp() + coalesce(p_time_budget,
            private.interval_setting('scheduled.' || p_job || '_time_budget'), interval '30 seconds'),
          p_batch_size, p_max_batches);
  insert into public.job_runs (run_id, job, step)
  select new_run_id, p_job, s.name
  from (select r.name from private.retention_rules r where p_job = 'retention'
        union all
        select s.name from private.recovery_steps s where p_job = 'recovery') s
  where p_steps is null or s.name = any (p_steps)
  order by s.name collate "C";
  return new_run_id;
end $$;
revoke execute on function private.start_job(text, text[], int, int, interval, uuid)
  from public, anon, authenticated;

-- Ends a step: its final status, and how long it took.
create or replace function private.finish_job_step(p_record_id bigint, p_status text, p_error text)
returns void
language sql set search_path = '' as $$
  update public.job_runs set
    status = p_status, error = p_error, finished_at = pg_catalog.clock_timestamp(),
    duration_ms = (extract(epoch from pg_catalog.clock_timestamp() - started_at) * 1000)::int
  where id = p_record_id
$$;
revoke execute on function private.finish_job_step(bigint, text, text) from public, anon, authenticated;

-- Runs the run's next batch and returns whether the run has more to do; commit after each call.
-- Steps take turns (round-robin: the running step with the fewest batches goes next), one batch
-- at a time, so no batch holds its locks for longer than it runs. A step ends when it has
-- nothing left (done), another run holds it (skipped, or partial after some batches), it fails,
-- or it has had max_batches; the run ends when the time budget is spent (partial).
create or replace function private.run_job_batch(p_run_id uuid) returns boolean
language plpgsql set search_path = '' as $$
declare
  run_plan private.job_run_plans;
  next_step public.job_runs;
  batch_started timestamptz;
  n int;
  err text;
begin
  select * into run_plan from private.job_run_plans where run_id = p_run_id;
  if not found then
    return false;
  end if;
  select * into next_step from public.job_runs
  where run_id = p_run_id and status = 'running'
  order by batches, step collate "C" limit 1;
  if not found then
    delete from private.job_run_plans where run_id = p_run_id;
    return false;
  end if;

  if pg_catalog.clock_timestamp() >= run_plan.deadline then
    perform private.finish_job_step(r.id, 'partial', null)
    from public.job_runs r where r.run_id = p_run_id and r.status = 'running';
    delete from private.job_run_plans where run_id = p_run_id;
    return false;
  end if;
  if next_step.batches >= run_plan.max_batches then
    perform private.finish_job_step(next_step.id, 'partial', null);
    return true;
  end if;

  batch_started := pg_catalog.clock_timestamp();
  begin
    if run_plan.job = 'retention' then
      n := private.purge_batch(next_step.step, run_plan.batch_size);
    else
      n := private.recover_batch(next_step.step, run_plan.batch_size);
    end if;
  exception when others then
    err := sqlerrm;
  end;
  if err is not null then
    perform private.finish_job_step(next_step.id, 'failed', err);
  elsif n is null then
    perform private.finish_job_step(next_step.id,
      case when next_step.batches = 0 then 'skipped' else 'partial' end, null);
  else
    -- Counted in the batch's own transaction: the record matches what was committed.
    update public.job_runs set
      rows_affected = rows_affected + n, batches = batches + 1,
      longest_batch_ms = greatest(coalesce(longest_batch_ms, 0),
        (extract(epoch from pg_catalog.clock_timestamp() - batch_started) * 1000)::int)
    where id = next_step.id;
    if n = 0 then
      perform private.finish_job_step(next_step.id, 'done', null);
    end if;
  end if;
  return true;
end $$;
revoke execute on function private.run_job_batch(uuid) from public, anon, authenticated;

-- The pg_cron commands. A DO block may commit (a function may not), so this loop is what makes
-- every batch its own transaction. Run one rule by hand the same way (as postgres):
--   do $$ declare run uuid := private.start_job('retention', array['usage_ledger']);
--   begin commit; while private.run_job_batch(run) loop commit; end loop; end $$;
select cron.schedule('aide-retention', '*/10 * * * *', $cmd$do $$ declare run uuid := private.start_job('retention'); begin commit; while private.run_job_batch(run) loop commit; end loop; end $$$cmd$);
select cron.schedule('aide-recovery', '* * * * *', $cmd$do $$ declare run uuid := private.start_job('recovery'); begin commit; while private.run_job_batch(run) loop commit; end loop; end $$$cmd$);

drop procedure if exists private.run_job(text, text[], int, int, interval, uuid);

-- The search index's text search configuration, by name -------------------------------------
-- to_tsvector(regconfig, text) is immutable, but the cast from text to regconfig is not (it
-- looks the name up), so the generated column goes through this function, which says it is
-- immutable: true as long as nobody redefines a configuration the index already uses.
create or replace function private.search_vector(p_language text, p_title text, p_content text)
returns tsvector
language sql immutable parallel safe set search_path = '' as $$
  select pg_catalog.to_tsvector(p_language::regconfig,
                                coalesce(p_title, '') || ' ' || coalesce(p_content, ''))
$$;
revoke execute on function private.search_vector(text, text, text) from public, anon;
grant execute on function private.search_vector(text, text, text) to authenticated, service_role;

do $$
begin
  if (select atttypid from pg_catalog.pg_attribute
      where attrelid = 'public.search_index'::regclass and attname = 'language') = 'regconfig'::regtype
  then
    alter table public.search_index drop column fts;
    alter table public.search_index alter column language drop default;
    alter table public.search_index alter column language type text using language::text;
    alter table public.search_index alter column language set default 'english';
    alter table public.search_index add column fts tsvector
      generated always as (private.search_vector(language, title, content)) stored;
    create index search_index_fts on public.search_index using gin (fts);
  end if;
end $$;
