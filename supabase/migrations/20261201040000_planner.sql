-- Planner (Flux, seed 001) and the task list it shares with the inbox (Prometheus, seed 004):
-- goals with their pipeline of micro-goals, recurring task series, tasks (one table for both
-- products), the in-app calendar, observed patterns, plans awaiting approval, the category
-- taxonomy, analytics, and the `kind` of a conversation.
--
-- Jobs:
--   aide-planner-horizon    hourly            occurrences of recurring series materialized ahead
--   aide-planner-analytics  every 5 minutes   the analytics materialized views, refreshed concurrently

-- Settings ----------------------------------------------------------------------------------
insert into public.app_settings (key, value, description) values
  ('planner.horizon_days', '14',
   'days ahead for which occurrences of recurring tasks exist as task rows; later ones are computed'),
  ('planner.default_preferences',
   '{"working_hours": {"start": "09:00", "end": "18:00", "days": [1, 2, 3, 4, 5]},
     "quiet_hours": {"start": "22:00", "end": "07:00"},
     "reminder_lead_minutes": 10, "escalation_window_minutes": 5}',
   'planner preferences of a user whose profiles.preferences does not set them (days: ISO weekdays, 1 = Monday)'),
  ('planner.analytics_refresh_interval', '"5 minutes"',
   'the analytics views are refreshed at most this often, and only after tasks changed')
on conflict (key) do nothing;

-- A user's planner preferences: the defaults above, overridden key by key by the profile's.
create function private.planner_preferences(p_user uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select (select value from public.app_settings where key = 'planner.default_preferences')
         || coalesce((select jsonb_strip_nulls(p.preferences) - array(
                        select k from jsonb_object_keys(p.preferences) k
                        where k not in ('working_hours', 'quiet_hours', 'reminder_lead_minutes',
                                        'escalation_window_minutes'))
                      from public.profiles p where p.id = p_user), '{}'::jsonb)
$$;
revoke execute on function private.planner_preferences(uuid) from public, anon, authenticated;

-- The planner's keys in profiles.preferences, checked in the database too (PATCH /account/me
-- checks them with zod first, for its error messages): the reminders' tick and the scheduler
-- read them, and a user may also write their profile through PostgREST. Other keys are free.
create function private.planner_preferences_valid(p jsonb) returns boolean
language sql immutable set search_path = '' as $$
  select jsonb_typeof(p) = 'object'
    and (not p ? 'reminder_lead_minutes'
         or (jsonb_typeof(p -> 'reminder_lead_minutes') = 'number'
             and (p ->> 'reminder_lead_minutes')::numeric between 0 and 1440
             and (p ->> 'reminder_lead_minutes')::numeric % 1 = 0))
    and (not p ? 'escalation_window_minutes'
         or (jsonb_typeof(p -> 'escalation_window_minutes') = 'number'
             and (p ->> 'escalation_window_minutes')::numeric between 1 and 240
             and (p ->> 'escalation_window_minutes')::numeric % 1 = 0))
    and (not p ? 'working_hours'
         or (jsonb_typeof(p -> 'working_hours') = 'object'
             and coalesce(p #>> '{working_hours,start}' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$', false)
             and coalesce(p #>> '{working_hours,end}' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$', false)
             and p #>> '{working_hours,start}' < p #>> '{working_hours,end}'
             and jsonb_typeof(p #> '{working_hours,days}') = 'array'
             and jsonb_array_length(p #> '{working_hours,days}') between 1 and 7
             and not exists (select 1 from jsonb_array_elements(p #> '{working_hours,days}') d
                             where jsonb_typeof(d) <> 'number' or d::text not in ('1','2','3','4','5','6','7'))))
    and (not p ? 'quiet_hours'
         or (jsonb_typeof(p -> 'quiet_hours') = 'object'
             and coalesce(p #>> '{quiet_hours,start}' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$', false)
             and coalesce(p #>> '{quiet_hours,end}' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$', false)
             and p #>> '{quiet_hours,start}' <> p #>> '{quiet_hours,end}'))
$$;
revoke execute on function private.planner_preferences_valid(jsonb) from public, anon;
grant execute on function private.planner_preferences_valid(jsonb) to authenticated;
alter table public.profiles add constraint profiles_planner_preferences
  check (private.planner_preferences_valid(preferences));

-- True for a name Postgres knows as a time zone ('Europe/Berlin', 'UTC'). Immutable for the
-- check constraints below; the time zone database only ever gains names.
create function private.is_time_zone(p_name text) returns boolean
language plpgsql immutable set search_path = '' as $$
begin
  perform now() at time zone p_name;
  return true;
exception when invalid_parameter_value then
  return false;
end $$;
revoke execute on function private.is_time_zone(text) from public, anon;
grant execute on function private.is_time_zone(text) to authenticated;

-- Category taxonomy (data, not code): the classifier picks 1 to 3 of these slugs -------------
create table public.planner_categories (
  slug text primary key check (slug ~ '^[a-z][a-z0-9_]{1,39}$'),
  label text not null,
  description text not null,
  position int not null default 0
);
alter table public.planner_categories enable row level security;
create policy "planner_categories: readable by signed-in users" on public.planner_categories
  for select to authenticated using (true);
select private.restrict_to_allowed_accounts('public.planner_categories');
revoke insert, update, delete on public.planner_categories from anon, authenticated;

insert into public.planner_categories (slug, label, description, position) values
  ('health', 'Health & fitness', 'exercise, sleep, nutrition, medical appointments', 1),
  ('career', 'Career & work', 'job, professional skills, projects, networking', 2),
  ('learning', 'Learning', 'courses, reading, languages, studying', 3),
  ('finance', 'Finance', 'budgeting, saving, investing, paperwork', 4),
  ('relationships', 'Relationships', 'family, friends, partner, community', 5),
  ('mindfulness', 'Mindfulness', 'meditation, journaling, mental health', 6),
  ('creativity', 'Creativity', 'art, music, writing, making things', 7),
  ('home', 'Home & chores', 'cleaning, errands, maintenance, cooking', 8),
  ('admin', 'Life admin', 'appointments, forms, bills, email', 9)
on conflict (slug) do nothing;

-- Rejects categories outside the taxonomy (arrays cannot carry foreign keys).
create function private.check_categories() returns trigger
language plpgsql set search_path = '' as $$
begin
  if exists (select 1 from unnest(new.categories) c
             where c not in (select slug from public.planner_categories)) then
    raise exception 'unknown category in %', new.categories using errcode = '23514';
  end if;
  return new;
end $$;
revoke execute on function private.check_categories() from public, anon, authenticated;

-- Conversations get a kind: the planner and the inbox keep their own conversations ----------
alter table public.conversations add column kind text not null default 'chat'
  check (kind in ('chat', 'planner', 'inbox'));
create index conversations_user_kind_recent on public.conversations
  (user_id, kind, (coalesce(last_message_at, created_at)) desc, id desc) where deleted_at is null;
grant insert (kind) on public.conversations to authenticated;

-- Goals and their pipeline of micro-goals -------------------------------------------------
create table public.goals (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 300),
  description text check (char_length(description) <= 5000),
  -- 1 to 3 slugs of planner_categories, chosen by the classifier; the first is the main one.
  categories text[] not null default '{}' check (cardinality(categories) <= 3),
  status text not null default 'active' check (status in ('active', 'completed', 'abandoned')),
  target_date date,
  -- The planner conversation the goal was planned in, and the plan it was approved from.
  conversation_id uuid references public.conversations (id) on delete set null,
  plan_id uuid,
  completed_at timestamptz,
  abandoned_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index goals_user_status on public.goals (user_id, status, created_at desc, id desc);
create index goals_conversation on public.goals (conversation_id);

-- Micro-goals unlock in order (position 1 first): the active one is the one being worked on;
-- when its tasks are done it becomes done and the next one active (see the tasks routes).
create table public.micro_goals (
  id uuid primary key default gen_random_uuid(),
  goal_id uuid not null references public.goals (id) on delete cascade,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  position int not null check (position between 1 and 50),
  title text not null check (char_length(title) between 1 and 300),
  description text check (char_length(description) <= 5000),
  status text not null default 'locked' check (status in ('locked', 'active', 'done')),
  unlocked_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (goal_id, position)
);
create index micro_goals_user on public.micro_goals (user_id);

-- Recurring series: the rule, its first local start and time zone. Occurrences become task
-- rows up to materialized_through (now + planner.horizon_days); later ones are computed.
create table public.task_series (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  goal_id uuid references public.goals (id) on delete cascade,
  micro_goal_id uuid references public.micro_goals (id) on delete set null,
  title text not null check (char_length(title) between 1 and 500),
  details text check (char_length(details) <= 10000),
  priority text not null default 'medium' check (priority in ('low', 'medium', 'high')),
  categories text[] not null default '{}' check (cardinality(categories) <= 3),
  place text check (char_length(place) <= 200),
  -- RFC 5545 RRULE value without DTSTART, e.g. 'FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=12'.
  rrule text not null check (char_length(rrule) between 6 and 1000),
  -- DTSTART as a wall-clock time in time_zone: 09:00 stays 09:00 across DST changes.
  starts_local timestamp not null,
  time_zone text not null check (private.is_time_zone(time_zone)),
  duration_minutes int not null check (duration_minutes between 1 and 1440),
  -- EXDATE: local starts of occurrences that do not happen.
  exdates timestamp[] not null default '{}',
  -- active: occurrences still to come; ended: the rule has none left to materialize;
  -- cancelled: the goal was abandoned or the series deleted.
  status text not null default 'active' check (status in ('active', 'ended', 'cancelled')),
  -- Bumped on every change of rule, start, zone, duration or exdates.
  rule_version int not null default 1,
  materialized_through timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index task_series_user on public.task_series (user_id);
create index task_series_goal on public.task_series (goal_id);
create index task_series_micro_goal on public.task_series (micro_goal_id);
create index task_series_horizon on public.task_series (materialized_through) where status = 'active';

-- Tasks: one table for the inbox and the planner ------------------------------------------
-- Status, one vocabulary for both products:
--   open       to do. The inbox's `open`; Flux's `pending`.
--   done       completed (completed_at).
--   snoozed    hidden until snoozed_until (inbox); reminders wait for it (planner).
--   missed     the scheduled start passed without completion (planner; missed_at).
--   cancelled  no longer wanted, e.g. its goal was abandoned (planner).
-- origin says who made the task: the user (POST /tasks or PostgREST), the planner (an approved
-- plan) or the inbox (an event that needs action; source_event_id and source_refs say which).
create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  origin text not null default 'user' check (origin in ('user', 'planner', 'inbox')),
  status text not null default 'open'
    check (status in ('open', 'done', 'snoozed', 'missed', 'cancelled')),
  priority text not null default 'medium' check (priority in ('low', 'medium', 'high')),
  title text not null check (char_length(title) between 1 and 500),
  details text check (char_length(details) <= 10000),
  -- Why the task exists (the inbox's explanation of an actionable event).
  reason text check (char_length(reason) <= 2000),
  due_at timestamptz,
  snoozed_until timestamptz,
  -- Planner: the goal and micro-goal it serves, its scheduled start and duration.
  goal_id uuid references public.goals (id) on delete cascade,
  micro_goal_id uuid references public.micro_goals (id) on delete set null,
  scheduled_at timestamptz,
  duration_minutes int check (duration_minutes between 1 and 1440),
  -- The zone the task's local time is shown in (the series' zone, or the profile's at creation).
  time_zone text check (time_zone is null or private.is_time_zone(time_zone)),
  categories text[] not null default '{}' check (cardinality(categories) <= 3),
  -- A place the task is bound to (seed 001's location trigger).
  place text check (char_length(place) <= 200),
  -- Recurring tasks: the series and the occurrence's original start from the rule (RFC 5545's
  -- RECURRENCE-ID), which stays when the occurrence is moved: one row per series and occurrence.
  series_id uuid references public.task_series (id) on delete cascade,
  recurrence_id timestamptz,
  -- Set when the user moved or edited this occurrence: rule changes leave it alone.
  overridden boolean not null default false,
  -- Inbox: the event behind the task and every event it cites ([{type, id, source}]).
  source_event_id uuid references public.events (id) on delete set null,
  source_refs jsonb not null default '[]'::jsonb check (jsonb_typeof(source_refs) = 'array'),
  completed_at timestamptz,
  missed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (series_id, recurrence_id),
  check ((series_id is null) = (recurrence_id is null)),
  check (status <> 'snoozed' or snoozed_until is not null),
  check (duration_minutes is null or scheduled_at is not null)
);
create index tasks_user_status_due on public.tasks (user_id, status, due_at);
create index tasks_user_scheduled on public.tasks (user_id, scheduled_at) where scheduled_at is not null;
create index tasks_user_priority on public.tasks (user_id, status, priority, created_at desc, id desc);
create index tasks_goal on public.tasks (goal_id, status);
create index tasks_micro_goal on public.tasks (micro_goal_id);
create index tasks_user_place on public.tasks (user_id, place) where place is not null;
-- An event is behind at most one open task: the inbox updates that one instead of adding one.
create unique index tasks_open_per_source_event on public.tasks (user_id, source_event_id)
  where source_event_id is not null and status in ('open', 'snoozed');
create index tasks_source_event on public.tasks (source_event_id);
-- The reminder tick and the analytics refresh look for what is due or what changed.
create index tasks_open_scheduled on public.tasks (scheduled_at) where status = 'open';
create index tasks_updated on public.tasks (updated_at);

-- Calendar (seed 004 5.5): the scheduler reads these as busy time ---------------------------
create table public.calendar_events (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 500),
  description text check (char_length(description) <= 10000),
  start_at timestamptz not null,
  end_at timestamptz not null,
  location text check (char_length(location) <= 500),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (end_at > start_at)
);
create index calendar_events_user_start on public.calendar_events (user_id, start_at);

-- Patterns: what the pattern observer saw in the history, and what the user said about it ---
create table public.patterns (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  -- missed_slot: tasks at this weekday and hour are often missed; productive_slot: often done;
  -- streak: consecutive days with everything done; category_performance: completion by category.
  kind text not null check (kind in ('missed_slot', 'productive_slot', 'streak', 'category_performance')),
  -- What the pattern is about within its kind (e.g. 'mon-07', 'health'): one row per kind and key.
  key text not null check (char_length(key) between 1 and 100),
  description text not null check (char_length(description) <= 1000),
  data jsonb not null default '{}'::jsonb,
  confidence numeric(4, 3) not null check (confidence between 0 and 1),
  sample_size int not null default 0 check (sample_size >= 0),
  -- observed: found by the observer; confirmed: the user agrees; overridden: the user said
  -- otherwise (override holds what to use instead) and the observer no longer changes it.
  status text not null default 'observed' check (status in ('observed', 'confirmed', 'overridden')),
  override jsonb,
  observed_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, kind, key)
);

-- The pattern observer's write: upserts the caller's patterns by (kind, key). A pattern the user
-- confirmed keeps its status; one they overrode is left as they set it.
create function private.record_patterns(p_patterns jsonb) returns int
language sql security definer set search_path = '' as $$
  with written as (
    insert into public.patterns as p (user_id, kind, key, description, data, confidence, sample_size)
    select (select auth.uid()), x.kind, x.key, x.description, coalesce(x.data, '{}'::jsonb),
           x.confidence, coalesce(x.sample_size, 0)
    from jsonb_to_recordset(p_patterns)
           as x(kind text, key text, description text, data jsonb, confidence numeric, sample_size int)
    where private.account_access((select auth.uid())) = 'allowed'
    on conflict (user_id, kind, key) do update set
      description = excluded.description, data = excluded.data, confidence = excluded.confidence,
      sample_size = excluded.sample_size, observed_at = now()
    where p.status <> 'overridden'
    returning 1
  )
  select count(*)::int from written
$$;
revoke execute on function private.record_patterns(jsonb) from public, anon;
grant execute on function private.record_patterns(jsonb) to authenticated;

-- Plans: what the goal planner proposed, until the user approves it -------------------------
-- The plan's id stays the same through a negotiation; every revision bumps version, and an
-- approval names the version it approves. Approving writes the goal, its micro-goals, series and
-- tasks in one transaction and records the goal here.
create table public.plans (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  -- The goal a modify turn revises; the goal created when a new-goal plan is approved.
  goal_id uuid references public.goals (id) on delete set null,
  version int not null default 1 check (version >= 1),
  status text not null default 'proposed' check (status in ('proposed', 'approved', 'rejected')),
  content jsonb not null check (jsonb_typeof(content) = 'object'),
  approved_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index plans_user on public.plans (user_id, created_at desc);
create index plans_conversation on public.plans (conversation_id, status);
create index plans_goal on public.plans (goal_id);
alter table public.goals add constraint goals_plan_fk
  foreign key (plan_id) references public.plans (id) on delete set null;
create index goals_plan on public.goals (plan_id);

-- Row Level Security: every row is its owner's -------------------------------------------
do $$
declare
  t text;
begin
  foreach t in array array['goals', 'micro_goals', 'task_series', 'tasks', 'calendar_events',
                           'patterns', 'plans'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('create policy "%s: owner reads" on public.%I for select to authenticated
                    using (user_id = (select auth.uid()))', t, t);
    execute format('create policy "%s: owner creates" on public.%I for insert to authenticated
                    with check (user_id = (select auth.uid()))', t, t);
    execute format('create policy "%s: owner updates" on public.%I for update to authenticated
                    using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()))', t, t);
    execute format('create policy "%s: owner deletes" on public.%I for delete to authenticated
                    using (user_id = (select auth.uid()))', t, t);
    perform private.restrict_to_allowed_accounts(format('public.%I', t)::regclass);
    execute format('revoke all on public.%I from anon', t);
    execute format('create trigger %s_touch before update on public.%I
                    for each row execute function private.touch_updated_at()', t, t);
  end loop;
end $$;

-- Goals are abandoned, not deleted (their history feeds analytics); plans are kept as the
-- record of what was approved; patterns are created only by the observer.
revoke delete on public.goals, public.plans from authenticated;
revoke insert on public.patterns from authenticated;
revoke update on public.patterns from authenticated;
grant update (status, override) on public.patterns to authenticated;

-- A child row must belong to the same user as its parent: RLS checks the row's own user_id,
-- so without this a user could hang their rows on another user's goal id.
create function private.check_planner_parents() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r jsonb := to_jsonb(new); -- the tables have different parent columns
  owner uuid := new.user_id;
begin
  if (r ->> 'goal_id') is not null and not exists (
       select 1 from public.goals g where g.id = (r ->> 'goal_id')::uuid and g.user_id = owner) then
    raise exception 'goal % not found', r ->> 'goal_id' using errcode = '23503';
  end if;
  if (r ->> 'micro_goal_id') is not null and not exists (
       select 1 from public.micro_goals m where m.id = (r ->> 'micro_goal_id')::uuid and m.user_id = owner) then
    raise exception 'micro-goal % not found', r ->> 'micro_goal_id' using errcode = '23503';
  end if;
  if (r ->> 'series_id') is not null and not exists (
       select 1 from public.task_series s where s.id = (r ->> 'series_id')::uuid and s.user_id = owner) then
    raise exception 'series % not found', r ->> 'series_id' using errcode = '23503';
  end if;
  return new;
end $$;
revoke execute on function private.check_planner_parents() from public, anon, authenticated;

create trigger micro_goals_parents before insert or update of goal_id, user_id on public.micro_goals
  for each row execute function private.check_planner_parents();
create trigger task_series_parents before insert or update of goal_id, micro_goal_id, user_id
  on public.task_series for each row execute function private.check_planner_parents();
create trigger tasks_parents before insert or update of goal_id, micro_goal_id, series_id, user_id
  on public.tasks for each row execute function private.check_planner_parents();
create trigger plans_parents before insert or update of goal_id, user_id on public.plans
  for each row execute function private.check_planner_parents();

create function private.check_conversation_owner() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.conversation_id is not null and not exists (
       select 1 from public.conversations c where c.id = new.conversation_id and c.user_id = new.user_id) then
    raise exception 'conversation % not found', new.conversation_id using errcode = '23503';
  end if;
  return new;
end $$;
revoke execute on function private.check_conversation_owner() from public, anon, authenticated;
create trigger goals_conversation_owner before insert or update of conversation_id, user_id
  on public.goals for each row execute function private.check_conversation_owner();
create trigger plans_conversation_owner before insert or update of conversation_id, user_id
  on public.plans for each row execute function private.check_conversation_owner();

create trigger goals_categories before insert or update of categories on public.goals
  for each row execute function private.check_categories();
create trigger task_series_categories before insert or update of categories on public.task_series
  for each row execute function private.check_categories();
create trigger tasks_categories before insert or update of categories on public.tasks
  for each row execute function private.check_categories();

-- Analytics (seed 001 2.3) -----------------------------------------------------------------
-- Materialized views cannot carry RLS, so they live in `private` (not exposed) and are read only
-- through definer functions that return the caller's rows, behind invoker views in public.
-- Weeks, weekdays and hours are the user's local ones (profiles.timezone).
create materialized view private.planner_weekly_stats as
  select t.user_id,
         date_trunc('week', t.scheduled_at at time zone p.timezone)::date as week_start,
         count(*)::int as planned,
         count(*) filter (where t.status = 'done')::int as done,
         count(*) filter (where t.status = 'missed')::int as missed
  from public.tasks t join public.profiles p on p.id = t.user_id
  where t.scheduled_at is not null and t.status <> 'cancelled'
  group by 1, 2
with no data;
create unique index planner_weekly_stats_key on private.planner_weekly_stats (user_id, week_start);

create materialized view private.planner_missed_by_category as
  select t.user_id, c.category,
         count(*)::int as planned,
         count(*) filter (where t.status = 'done')::int as done,
         count(*) filter (where t.status = 'missed')::int as missed
  from public.tasks t
  cross join lateral unnest(case when cardinality(t.categories) = 0 then array['uncategorized']
                                 else t.categories end) as c(category)
  where t.scheduled_at is not null and t.status <> 'cancelled'
  group by 1, 2
with no data;
create unique index planner_missed_by_category_key on private.planner_missed_by_category (user_id, category);

create materialized view private.planner_activity_heatmap as
  select t.user_id,
         extract(isodow from t.scheduled_at at time zone p.timezone)::int as weekday,
         extract(hour from t.scheduled_at at time zone p.timezone)::int as hour,
         count(*)::int as planned,
         count(*) filter (where t.status = 'done')::int as done,
         count(*) filter (where t.status = 'missed')::int as missed
  from public.tasks t join public.profiles p on p.id = t.user_id
  where t.scheduled_at is not null and t.status <> 'cancelled'
  group by 1, 2, 3
with no data;
create unique index planner_activity_heatmap_key on private.planner_activity_heatmap (user_id, weekday, hour);

revoke all on private.planner_weekly_stats, private.planner_missed_by_category,
              private.planner_activity_heatmap from public, anon, authenticated;

create function private.my_weekly_stats()
returns setof private.planner_weekly_stats
language sql stable security definer set search_path = '' as $$
  select * from private.planner_weekly_stats
  where user_id = (select auth.uid()) and private.account_access((select auth.uid())) = 'allowed'
$$;
create function private.my_missed_by_category()
returns setof private.planner_missed_by_category
language sql stable security definer set search_path = '' as $$
  select * from private.planner_missed_by_category
  where user_id = (select auth.uid()) and private.account_access((select auth.uid())) = 'allowed'
$$;
create function private.my_activity_heatmap()
returns setof private.planner_activity_heatmap
language sql stable security definer set search_path = '' as $$
  select * from private.planner_activity_heatmap
  where user_id = (select auth.uid()) and private.account_access((select auth.uid())) = 'allowed'
$$;
revoke execute on function private.my_weekly_stats(), private.my_missed_by_category(),
                           private.my_activity_heatmap() from public, anon;
grant execute on function private.my_weekly_stats(), private.my_missed_by_category(),
                          private.my_activity_heatmap() to authenticated;

create view public.planner_weekly_stats with (security_invoker = true) as
  select * from private.my_weekly_stats();
create view public.planner_missed_by_category with (security_invoker = true) as
  select * from private.my_missed_by_category();
create view public.planner_activity_heatmap with (security_invoker = true) as
  select * from private.my_activity_heatmap();
revoke all on public.planner_weekly_stats, public.planner_missed_by_category,
              public.planner_activity_heatmap from anon, authenticated;
grant select on public.planner_weekly_stats, public.planner_missed_by_category,
                public.planner_activity_heatmap to authenticated;
-- Read-only: without these a write would fail in the rewriter (500) instead of being refused.
create trigger planner_weekly_stats_read_only instead of insert or update or delete
  on public.planner_weekly_stats for each row execute function private.refuse_write();
create trigger planner_missed_by_category_read_only instead of insert or update or delete
  on public.planner_missed_by_category for each row execute function private.refuse_write();
create trigger planner_activity_heatmap_read_only instead of insert or update or delete
  on public.planner_activity_heatmap for each row execute function private.refuse_write();

-- Refreshes the three views when tasks changed since the last refresh and the refresh
-- interval has passed (or always, when forced). Returns whether it refreshed. Concurrent
-- refreshes keep the views readable; the advisory lock keeps two runs from refreshing at once.
create table private.planner_analytics_state (
  id boolean primary key default true check (id),
  refreshed_at timestamptz
);
insert into private.planner_analytics_state (id, refreshed_at) values (true, null) on conflict do nothing;
revoke all on private.planner_analytics_state from public, anon, authenticated;

create function private.refresh_planner_analytics(p_force boolean default false) returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  last timestamptz := (select refreshed_at from private.planner_analytics_state);
  started timestamptz := clock_timestamp();
begin
  if not pg_catalog.pg_try_advisory_xact_lock(private.job_lock_key('planner', 'analytics')) then
    return false;
  end if;
  if not p_force and last is not null
     and (last > now() - private.interval_setting('planner.analytics_refresh_interval')
          or not exists (select 1 from public.tasks where updated_at >= last)) then
    return false;
  end if;
  if last is null then
    -- The first refresh cannot be concurrent: the views hold no data yet.
    refresh materialized view private.planner_weekly_stats;
    refresh materialized view private.planner_missed_by_category;
    refresh materialized view private.planner_activity_heatmap;
  else
    refresh materialized view concurrently private.planner_weekly_stats;
    refresh materialized view concurrently private.planner_missed_by_category;
    refresh materialized view concurrently private.planner_activity_heatmap;
  end if;
  update private.planner_analytics_state set refreshed_at = started;
  return true;
end $$;
revoke execute on function private.refresh_planner_analytics(boolean) from public, anon, authenticated;

select private.refresh_planner_analytics(true);

-- Materializing recurring occurrences ahead -------------------------------------------------
-- Expanding RRULEs is the tasks function's work (npm:rrule-temporal, in TypeScript); this job asks
-- it, through pg_net with the Vault webhook secret, to extend every active series whose rows end
-- within a day of the horizon. The function's writes are idempotent (one row per series and
-- occurrence), so a repeated or overlapping call adds nothing.
create function private.dispatch_planner_horizon(p_batch_size int default 200) returns int
language plpgsql security definer set search_path = '' as $$
declare
  base_url text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_functions_url');
  secret text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret');
  horizon interval := make_interval(days => (select (value #>> '{}')::int from public.app_settings
                                              where key = 'planner.horizon_days'));
  due int;
begin
  select count(*) into due from public.task_series
  where status = 'active'
    and (materialized_through is null or materialized_through < now() + horizon - interval '1 day');
  if due = 0 then
    return 0;
  end if;
  if base_url is null or secret is null then
    raise warning 'aide: Vault secrets aide_functions_url / aide_webhook_secret are missing; % series wait', due;
    return 0;
  end if;
  perform net.http_post(
    url := base_url || '/tasks/materialize',
    body := jsonb_build_object('batch_size', p_batch_size),
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || secret),
    timeout_milliseconds := 120000);
  return due;
end $$;
revoke execute on function private.dispatch_planner_horizon(int) from public, anon, authenticated;

select cron.schedule('aide-planner-horizon', '23 * * * *', 'select private.dispatch_planner_horizon()');
select cron.schedule('aide-planner-analytics', '*/5 * * * *', 'select private.refresh_planner_analytics()');
