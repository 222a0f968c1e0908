-- The reminder chain (SPEC 3.6, seed 001 phase 5), with no worker process: for each open task
-- with a scheduled start, Web Push at start minus the user's lead time, then WhatsApp, then a
-- voice call, then auto-miss, each one escalation window after the one before, until the user
-- acknowledges (push action, WhatsApp reply, key pressed in the call) or the task is done,
-- moved or cancelled.
--
--   tasks (trigger) -> private.reminder_chains: which stage is next, and when
--   pg_cron every minute (aide-reminders): private.start_reminder_tick() and reminder_tick_batch()
--     claims due stages in bounded batches (compare-and-set on the stage's column), writes one
--     public.notification_log row per (task, start, round, stage), and posts the pending ones'
--     ids through pg_net to the `reminders` function, which sends them
--   aide-recovery step reminder_dispatches: pending rows nobody picked up are posted again;
--     rows left 'sending' by a dispatcher that died become 'unknown' (never sent again)
--
-- Preferences (private.planner_preferences): reminder_lead_minutes, escalation_window_minutes,
-- quiet_hours {start, end} in the profile's time zone. A stage due in quiet hours waits for
-- their end; the stages after it keep their spacing.

insert into public.app_settings (key, value, description) values
  ('reminders.tick_batch_size', '500', 'due stages claimed per transaction of the reminder tick'),
  ('reminders.tick_time_budget', '"50 seconds"',
   'longest a reminder tick claims before leaving the rest to the next minute'),
  ('reminders.dispatch_batch_size', '100', 'sends per call of the reminders function'),
  ('reminders.dispatch_retry_after', '"2 minutes"',
   'a pending send nobody picked up in this long is posted to the function again'),
  ('reminders.dispatch_max_posts', '3', 'posts of a pending send before it is marked failed'),
  ('reminders.snooze_minutes', '10', 'how long "snooze" (2 in a call or a reply) waits'),
  ('retention.notification_log', '"180 days"', 'notification_log rows kept this long')
on conflict (key) do nothing;

alter table public.job_runs drop constraint if exists job_runs_job_check;
alter table public.job_runs add constraint job_runs_job_check
  check (job in ('retention', 'recovery', 'reminders'));

-- Chain state, one row per task with a scheduled start. Not exposed: users see their
-- notification_log; only the trigger, the tick and the dispatcher write here.
create table private.reminder_chains (
  task_id uuid primary key references public.tasks (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  starts_at timestamptz not null, -- the scheduled start this chain reminds of
  round int not null default 0, -- a snooze starts the chain again as a new round
  next_stage text check (next_stage in ('push', 'whatsapp', 'call', 'missed')), -- null: over
  next_at timestamptz, -- when next_stage is due
  -- Claimed stages of this round: the compare-and-set columns (a stage is claimed once).
  push_at timestamptz,
  whatsapp_at timestamptz,
  call_at timestamptz,
  missed_at timestamptz,
  stopped_at timestamptz,
  stop_reason text check (stop_reason in ('acknowledged', 'done', 'missed', 'cancelled', 'unscheduled')),
  ack_action text check (ack_action in ('done', 'snooze', 'reschedule')),
  ack_channel text check (ack_channel in ('push', 'whatsapp', 'call', 'api')),
  updated_at timestamptz not null default now(),
  check ((next_stage is null) = (next_at is null))
);
create index reminder_chains_due on private.reminder_chains (next_at) where next_stage is not null;
create index reminder_chains_user on private.reminder_chains (user_id);
revoke all on private.reminder_chains from public, anon, authenticated;

-- What was sent (or skipped) for each stage: the user's reminder history and the dispatchers'
-- work queue. Unique per (task, start, round, stage): a stage is recorded, and sent, once.
create table public.notification_log (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  task_id uuid not null references public.tasks (id) on delete cascade,
  stage text not null check (stage in ('push', 'whatsapp', 'call', 'missed')),
  starts_at timestamptz not null,
  round int not null default 0,
  -- pending: claimed, waiting for a dispatcher; sending: a dispatcher is on it; sent; skipped
  -- (no channel, or acknowledged first: see error); failed; unknown: the dispatcher died
  -- mid-send, so it may have gone out, and it is never sent again.
  status text not null default 'pending'
    check (status in ('pending', 'sending', 'sent', 'skipped', 'failed', 'unknown')),
  provider_id text, -- Twilio's MessageSid or CallSid, the push service's message URL
  delivery_status text, -- the provider's last status callback (delivered, no-answer, ...)
  error text,
  posts int not null default 0, -- times posted to the reminders function
  created_at timestamptz not null default now(),
  posted_at timestamptz,
  sending_at timestamptz,
  sent_at timestamptz,
  updated_at timestamptz not null default now(),
  unique (task_id, starts_at, round, stage)
);
create index notification_log_user on public.notification_log (user_id, created_at desc);
create index notification_log_open on public.notification_log (status, posted_at)
  where status in ('pending', 'sending');
create index notification_log_provider on public.notification_log (provider_id)
  where provider_id is not null;
create index notification_log_created on public.notification_log (created_at);
alter table public.notification_log enable row level security;
create policy "notification_log: owner reads" on public.notification_log
  for select to authenticated using (user_id = (select auth.uid()));
select private.restrict_to_allowed_accounts('public.notification_log');
revoke insert, update, delete on public.notification_log from anon, authenticated;
create trigger notification_log_touch before update on public.notification_log
  for each row execute function private.touch_updated_at();

insert into private.retention_rules (name, table_name, time_column, window_setting, condition)
values ('notification_log', 'public.notification_log', 'created_at', 'retention.notification_log',
        $$status not in ('pending', 'sending')$$)
on conflict (name) do nothing;

-- Keeping chains in step with their tasks ---------------------------------------------------
-- An open task with a future scheduled start gets a chain; a new start (reschedule) starts it
-- over; a task snoozed until later waits; done, missed or cancelled stops it.
create function private.sync_reminder_chain() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  c private.reminder_chains;
  first_at timestamptz;
begin
  select * into c from private.reminder_chains where task_id = new.id for update;
  if new.status in ('done', 'missed', 'cancelled') or new.scheduled_at is null then
    update private.reminder_chains set next_stage = null, next_at = null,
      stopped_at = coalesce(stopped_at, now()),
      stop_reason = coalesce(stop_reason,
                             case when new.scheduled_at is null then 'unscheduled' else new.status end),
      updated_at = now()
    where task_id = new.id and stopped_at is null;
    return null;
  end if;

  first_at := new.scheduled_at - make_interval(mins => coalesce(
    (private.planner_preferences(new.user_id) ->> 'reminder_lead_minutes')::int, 10));
  if new.status = 'snoozed' then
    first_at := greatest(first_at, new.snoozed_until);
  end if;

  if c.task_id is null then
    if new.scheduled_at <= now() then
      return null; -- already started when it was added: nothing to remind of
    end if;
    insert into private.reminder_chains (task_id, user_id, starts_at, next_stage, next_at)
    values (new.id, new.user_id, new.scheduled_at, 'push', first_at);
    return null;
  end if;

  if c.starts_at is distinct from new.scheduled_at then
    c.round := 0; -- moved: a chain for the new start
  elsif new.status = 'snoozed' and (old.status <> 'snoozed' or old.snoozed_until is distinct from new.snoozed_until) then
    c.round := c.round + 1; -- snoozed: again from the first stage once the snooze ends
  elsif c.next_stage is null and c.stop_reason <> 'acknowledged' and new.scheduled_at > now() then
    c.round := c.round + 1; -- reopened before its start
  else
    return null; -- nothing that concerns the chain changed
  end if;
  update private.reminder_chains set
    user_id = new.user_id, starts_at = new.scheduled_at, round = c.round,
    next_stage = 'push', next_at = first_at,
    push_at = null, whatsapp_at = null, call_at = null, missed_at = null,
    stopped_at = null, stop_reason = null, ack_action = null, ack_channel = null, updated_at = now()
  where task_id = new.id;
  return null;
end $$;
revoke execute on function private.sync_reminder_chain() from public, anon, authenticated;

create trigger tasks_reminder_chain after insert or update of status, scheduled_at, snoozed_until
  on public.tasks for each row execute function private.sync_reminder_chain();

-- Tasks that already exist (a project where the planner ran before this migration): their
-- chains, as the trigger would have made them.
insert into private.reminder_chains (task_id, user_id, starts_at, next_stage, next_at)
select t.id, t.user_id, t.scheduled_at, 'push',
       t.scheduled_at - make_interval(mins => coalesce(
         (private.planner_preferences(t.user_id) ->> 'reminder_lead_minutes')::int, 10))
from public.tasks t
where t.status = 'open' and t.scheduled_at > now()
on conflict (task_id) do nothing;

-- Quiet hours ------------------------------------------------------------------------------
-- When p_at falls in the quiet hours {start, end} (local wall-clock times in p_zone; a window
-- may cross midnight), the instant they end; otherwise null. Local arithmetic, so 07:00 is
-- 07:00 on the day clocks change.
create function private.quiet_hours_end(p_at timestamptz, p_zone text, p_quiet jsonb)
returns timestamptz
language plpgsql stable set search_path = '' as $$
declare
  local_at timestamp := p_at at time zone p_zone;
  t time := local_at::time;
  s time := (p_quiet ->> 'start')::time;
  e time := (p_quiet ->> 'end')::time;
  end_local timestamp;
begin
  if s is null or e is null or s = e then
    return null;
  elsif s < e then -- e.g. 13:00-15:00
    if t < s or t >= e then return null; end if;
    end_local := local_at::date + e;
  elsif t >= s then -- e.g. 22:00-07:00, before midnight
    end_local := (local_at::date + 1) + e;
  elsif t < e then -- after midnight
    end_local := local_at::date + e;
  else
    return null;
  end if;
  return end_local at time zone p_zone;
end $$;
revoke execute on function private.quiet_hours_end(timestamptz, text, jsonb) from public, anon, authenticated;

-- The tick -----------------------------------------------------------------------------------
-- Posts pending sends to the reminders function, p_batch ids per call, authenticated with the
-- Vault secret aide_webhook_secret. Without the Vault secrets the sends wait (recovery posts
-- them once the secrets exist).
create function private.post_reminder_dispatches(p_ids uuid[]) returns int
language plpgsql security definer set search_path = '' as $$
declare
  base_url text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_functions_url');
  secret text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret');
  per_call int := private.int_setting('reminders.dispatch_batch_size', 100);
  i int := 1;
begin
  if p_ids is null or cardinality(p_ids) = 0 then
    return 0;
  end if;
  if base_url is null or secret is null then
    raise warning 'aide: Vault secrets aide_functions_url / aide_webhook_secret are missing; reminders wait';
    return 0;
  end if;
  while i <= cardinality(p_ids) loop
    perform net.http_post(
      url := base_url || '/reminders/dispatch',
      body := jsonb_build_object('ids', to_jsonb(p_ids[i : i + per_call - 1])),
      headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || secret),
      timeout_milliseconds := 120000);
    i := i + per_call;
  end loop;
  update public.notification_log set posts = posts + 1, posted_at = now() where id = any (p_ids);
  return cardinality(p_ids);
end $$;
revoke execute on function private.post_reminder_dispatches(uuid[]) from public, anon, authenticated;

-- Takes at most p_limit due chains at p_now (locked, so other ticks skip them) and returns how
-- many it took. For each, in one statement:
--   the task is no longer open              the chain stops;
--   the stage is due in quiet hours         it moves to their end;
--   otherwise                               the stage is claimed with a compare-and-set on its
--     column (`<stage>_at is null`), so a stage is claimed once whatever number of ticks run, and
--     the chain moves on to the next stage one escalation window later. A stage the user has no
--     channel for is recorded as skipped, the others as pending sends, which are then posted to
--     the reminders function.
-- p_now: the tick's clock; p_users: only these users' chains (tests, manual runs).
create function private.claim_reminder_batch(
  p_limit int, p_now timestamptz default null, p_users uuid[] default null)
returns int
language plpgsql security definer set search_path = '' as $$
declare
  at_ timestamptz := coalesce(p_now, now());
  taken int;
  pending uuid[];
begin
  with due as (
    select c.task_id, c.user_id, c.starts_at, c.round, c.next_stage, c.next_at,
           t.status as task_status, p.timezone, p.phone_verified, p.whatsapp_opted_in_at,
           private.planner_preferences(c.user_id) as prefs,
           exists (select 1 from public.push_subscriptions s where s.user_id = c.user_id) as has_push
    from private.reminder_chains c
    join public.tasks t on t.id = c.task_id
    join public.profiles p on p.id = c.user_id
    where c.next_stage is not null and c.next_at <= at_
      and (p_users is null or c.user_id = any (p_users))
    order by c.next_at
    limit p_limit
    for update of c skip locked
  ), channel as (
    select d.*, case d.next_stage
      when 'push' then case when not d.has_push then 'no push subscription' end
      when 'whatsapp' then case when not d.phone_verified then 'no verified phone'
                                when d.whatsapp_opted_in_at is null then 'no WhatsApp opt-in' end
      when 'call' then case when not d.phone_verified then 'no verified phone' end
    end as skip
    from due d
  ), decided as (
    select ch.*,
      case when ch.task_status in ('open', 'snoozed') and ch.skip is null and ch.next_stage <> 'missed'
           then private.quiet_hours_end(at_, ch.timezone, ch.prefs -> 'quiet_hours') end as quiet_end,
      case ch.next_stage when 'push' then 'whatsapp' when 'whatsapp' then 'call'
                         when 'call' then 'missed' end as following
    from channel ch
  ), stopped as (
    update private.reminder_chains c set next_stage = null, next_at = null, stopped_at = at_,
      stop_reason = case when d.task_status in ('done', 'missed', 'cancelled') then d.task_status
                         else 'cancelled' end,
      updated_at = now()
    from decided d
    where c.task_id = d.task_id and d.task_status not in ('open', 'snoozed')
  ), deferred as (
    update private.reminder_chains c set next_at = d.quiet_end, updated_at = now()
    from decided d
    where c.task_id = d.task_id and d.task_status in ('open', 'snoozed') and d.quiet_end is not null
  ), claimed as (
    -- The compare-and-set: claimed only if this stage of this round has not been claimed yet.
    update private.reminder_chains c set
      push_at = case when d.next_stage = 'push' then at_ else c.push_at end,
      whatsapp_at = case when d.next_stage = 'whatsapp' then at_ else c.whatsapp_at end,
      call_at = case when d.next_stage = 'call' then at_ else c.call_at end,
      missed_at = case when d.next_stage = 'missed' then at_ else c.missed_at end,
      next_stage = d.following,
      next_at = case when d.following is not null then d.next_at + make_interval(
                  mins => coalesce((d.prefs ->> 'escalation_window_minutes')::int, 5)) end,
      updated_at = now()
    from decided d
    where c.task_id = d.task_id and d.task_status in ('open', 'snoozed') and d.quiet_end is null
      and c.round = d.round and c.next_stage = d.next_stage
      and case d.next_stage when 'push' then c.push_at is null when 'whatsapp' then c.whatsapp_at is null
                            when 'call' then c.call_at is null else c.missed_at is null end
    returning c.task_id, d.user_id, d.next_stage as stage, d.starts_at, d.round, d.skip
  ), logged as (
    insert into public.notification_log (user_id, task_id, stage, starts_at, round, status, error)
    select user_id, task_id, stage, starts_at, round,
           case when skip is null then 'pending' else 'skipped' end, skip
    from claimed
    on conflict (task_id, starts_at, round, stage) do nothing
    returning id, status
  )
  select (select count(*) from due)::int,
         (select array_agg(id) from logged where status = 'pending')
  into taken, pending;
  perform private.post_reminder_dispatches(pending);
  return taken;
end $$;
revoke execute on function private.claim_reminder_batch(int, timestamptz, uuid[]) from public, anon, authenticated;

-- The pg_cron job: a run starts with a record in public.job_runs (job 'reminders', step
-- 'tick'), then claims batch after batch, each its own transaction (the DO block of the cron
-- command commits between them, so a send is posted as soon as its batch is claimed and no batch
-- holds its locks for long), until nothing is due or the time budget is spent. Any number of
-- runs may go at once: the claims divide the work between them. By hand (as postgres):
--   do $$ declare run bigint := private.start_reminder_tick();
--   begin commit; while private.reminder_tick_batch(run) loop commit; end loop; end $$;
create function private.start_reminder_tick() returns bigint
language sql set search_path = '' as $$
  insert into public.job_runs (run_id, job, step)
  values (pg_catalog.gen_random_uuid(), 'reminders', 'tick') returning id
$$;
revoke execute on function private.start_reminder_tick() from public, anon, authenticated;

-- One batch of the run `p_record_id`; true while there may be more. p_now, p_users: as for
-- claim_reminder_batch; p_batch_size: instead of reminders.tick_batch_size.
create function private.reminder_tick_batch(
  p_record_id bigint, p_now timestamptz default null, p_batch_size int default null,
  p_users uuid[] default null)
returns boolean
language plpgsql set search_path = '' as $$
declare
  run public.job_runs;
  batch int := coalesce(p_batch_size, private.int_setting('reminders.tick_batch_size', 500));
  batch_started timestamptz := pg_catalog.clock_timestamp();
  n int;
  err text;
begin
  select * into run from public.job_runs where id = p_record_id and status = 'running';
  if not found then
    return false;
  end if;
  begin
    n := private.claim_reminder_batch(batch, p_now, p_users);
  exception when others then
    err := sqlerrm;
  end;
  update public.job_runs set
    rows_affected = rows_affected + coalesce(n, 0), batches = batches + 1,
    longest_batch_ms = greatest(coalesce(longest_batch_ms, 0),
      (extract(epoch from pg_catalog.clock_timestamp() - batch_started) * 1000)::int)
  where id = p_record_id;
  if err is not null then
    perform private.finish_job_step(p_record_id, 'failed', err);
  elsif n < batch then
    perform private.finish_job_step(p_record_id, 'done', null);
  elsif pg_catalog.clock_timestamp() >= run.started_at
        + coalesce(private.interval_setting('reminders.tick_time_budget'), interval '50 seconds') then
    perform private.finish_job_step(p_record_id, 'partial', null);
  else
    return true;
  end if;
  return false;
end $$;
revoke execute on function private.reminder_tick_batch(bigint, timestamptz, int, uuid[]) from public, anon, authenticated;

-- Recovery: sends nobody picked up, and dispatchers that died mid-send ----------------------
-- pending past reminders.dispatch_retry_after: posted again (the function's own claim,
-- pending -> sending, makes a second post harmless), failed after dispatch_max_posts posts.
-- sending past platform.wall_clock_limit: the function that took it is gone. It may have
-- reached the provider, so it is never sent again: 'unknown' (or 'sent' when the provider's
-- status callback already told us its id).
create function private.recover_reminder_dispatches(p_batch_size int) returns int
language plpgsql security definer set search_path = '' as $$
declare
  repost uuid[];
  interrupted int;
  given_up int;
begin
  with stuck as (
    select id from public.notification_log
    where status = 'sending'
      and sending_at < now() - coalesce(private.interval_setting('platform.wall_clock_limit'), interval '400 seconds')
    order by sending_at limit p_batch_size
    for update skip locked
  ), marked as (
    update public.notification_log l set
      status = case when l.provider_id is not null then 'sent' else 'unknown' end,
      error = case when l.provider_id is null
                   then 'the dispatcher stopped mid-send; not sent again in case it went out' end
    from stuck where l.id = stuck.id returning 1
  )
  select count(*) into interrupted from marked;

  with stale as (
    select id from public.notification_log
    where status = 'pending' and posts >= private.int_setting('reminders.dispatch_max_posts', 3)
      and posted_at < now() - coalesce(private.interval_setting('reminders.dispatch_retry_after'), interval '2 minutes')
    order by posted_at limit p_batch_size
    for update skip locked
  ), failed as (
    update public.notification_log l set status = 'failed',
      error = 'never picked up by the reminders function'
    from stale where l.id = stale.id returning 1
  )
  select count(*) into given_up from failed;

  select array_agg(id) into repost from (
    select id from public.notification_log
    where status = 'pending'
      and coalesce(posted_at, created_at) < now()
          - coalesce(private.interval_setting('reminders.dispatch_retry_after'), interval '2 minutes')
    order by created_at limit p_batch_size
    for update skip locked
  ) s;
  perform private.post_reminder_dispatches(repost);
  return interrupted + given_up + coalesce(cardinality(repost), 0);
end $$;
revoke execute on function private.recover_reminder_dispatches(int) from public, anon, authenticated;

insert into private.recovery_steps (name, handler) values
  ('reminder_dispatches', 'private.recover_reminder_dispatches')
on conflict (name) do nothing;

-- The dispatcher's side (the reminders function, over its service connection) ----------------
-- Takes pending sends (pending -> sending: the second guard; a send is taken once) and returns
-- what it needs to send them. Sends whose chain stopped since the claim are skipped here.
create function private.take_reminder_dispatches(p_ids uuid[])
returns table (id uuid, user_id uuid, task_id uuid, stage text, round int, starts_at timestamptz,
               title text, timezone text, phone text, phone_verified boolean,
               whatsapp_opted_in boolean, whatsapp_session_open boolean)
language plpgsql security definer set search_path = '' as $$
begin
  update public.notification_log l set status = 'skipped', error = 'the chain stopped before sending'
  from private.reminder_chains c
  where l.id = any (p_ids) and l.status = 'pending' and c.task_id = l.task_id
    and (c.round <> l.round or c.starts_at <> l.starts_at or c.stop_reason is not null);
  return query
  with taken as (
    update public.notification_log l set status = 'sending', sending_at = now()
    where l.id = any (p_ids) and l.status = 'pending'
    returning l.*
  )
  select tk.id, tk.user_id, tk.task_id, tk.stage, tk.round, tk.starts_at, t.title,
         coalesce(t.time_zone, p.timezone), p.phone, p.phone_verified,
         p.whatsapp_opted_in_at is not null,
         coalesce(p.whatsapp_last_inbound_at > now() - interval '24 hours', false)
  from taken tk join public.tasks t on t.id = tk.task_id join public.profiles p on p.id = tk.user_id;
end $$;
revoke execute on function private.take_reminder_dispatches(uuid[]) from public, anon, authenticated;

-- An answer from the user (push action, WhatsApp reply, key pressed, or the API): 'snooze'
-- starts the chain again in reminders.snooze_minutes as a new round (sends of the old round
-- still pending are skipped); 'done' and 'reschedule' stop it, and 'done' completes the task.
-- Returns 'ok', or 'closed' when the task is no longer open (nothing changes), or 'no_chain'.
create function private.acknowledge_reminder(p_task uuid, p_action text, p_channel text)
returns text
language plpgsql security definer set search_path = '' as $$
declare
  c private.reminder_chains;
  task_status text;
begin
  select * into c from private.reminder_chains where task_id = p_task for update;
  if c.task_id is null then
    return 'no_chain';
  end if;
  select status into task_status from public.tasks where id = p_task;
  if task_status not in ('open', 'snoozed') then
    return 'closed';
  end if;
  if p_action = 'snooze' then
    update private.reminder_chains set
      round = round + 1, next_stage = 'push',
      next_at = now() + make_interval(mins => private.int_setting('reminders.snooze_minutes', 10)),
      push_at = null, whatsapp_at = null, call_at = null, missed_at = null,
      stopped_at = null, stop_reason = null, ack_action = 'snooze', ack_channel = p_channel,
      updated_at = now()
    where task_id = p_task;
  elsif p_action in ('done', 'reschedule') then
    update private.reminder_chains set next_stage = null, next_at = null, stopped_at = now(),
      stop_reason = 'acknowledged', ack_action = p_action, ack_channel = p_channel, updated_at = now()
    where task_id = p_task;
    if p_action = 'done' then
      update public.tasks set status = 'done', completed_at = now() where id = p_task;
    end if;
  else
    raise exception 'unknown action %', p_action;
  end if;
  return 'ok';
end $$;
revoke execute on function private.acknowledge_reminder(uuid, text, text) from public, anon, authenticated;

select cron.schedule('aide-reminders', '* * * * *', $cmd$do $$ declare run bigint := private.start_reminder_tick(); begin commit; while private.reminder_tick_batch(run) loop commit; end loop; end $$$cmd$);
