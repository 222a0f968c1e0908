-- Accounts, limits and usage: the email-domain allowlist (also as a "before user created" Auth
-- hook), per-user rate limits and monthly budgets, and GDPR export and deletion of everything a
-- user owns. (Admin access to profiles, usage, models and prices is in the tables' own policies.)

insert into public.app_settings (key, value, description) values
  ('auth.allowed_email_domains', '[]',
   'email domains allowed to sign up and call the API, e.g. ["oxy.so"]; empty: everyone'),
  ('rate_limit.chat', '{"requests": 20, "window_seconds": 60}',
   'chat sends and regenerations per user per window'),
  ('rate_limit.write', '{"requests": 120, "window_seconds": 60}',
   'other writes (POST, PATCH, DELETE) per user per window'),
  ('budget.default_monthly_usd', '20',
   'monthly spend per user in USD unless profiles.monthly_budget_usd says otherwise; null: no budget'),
  ('budget.soft_limit_ratio', '0.8',
   'share of the budget after which chat switches to budget.downgrade_model'),
  ('budget.downgrade_model', '"gpt-5-mini"',
   'model alias that answers once a user is past the soft limit'),
  ('retention.rate_limits', '"1 day"', 'how long rate limit counter rows are kept')
on conflict (key) do nothing;

-- Email-domain allowlist ---------------------------------------------------------------------
create function private.email_domain_allowed(p_email text) returns boolean
language sql stable security definer set search_path = '' as $$
  select case
    when s.value is null or jsonb_typeof(s.value) <> 'array' or jsonb_array_length(s.value) = 0
      then true
    else exists (select 1 from jsonb_array_elements_text(s.value) d
                 where lower(d) = lower(substring(p_email from '@([^@]+)$')))
  end
  from (select (select value from public.app_settings
                where key = 'auth.allowed_email_domains') as value) s
$$;
revoke execute on function private.email_domain_allowed(text) from public, anon, authenticated;

-- Supabase Auth "before user created" hook (config.toml [auth.hook.before_user_created]): Auth
-- calls it as supabase_auth_admin with {"metadata": {...}, "user": {"email": ...}}; an `error`
-- in the answer rejects the sign-up, `{}` lets it through.
create function public.hook_before_user_created(event jsonb) returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  if private.email_domain_allowed(event -> 'user' ->> 'email') then
    return '{}'::jsonb;
  end if;
  return jsonb_build_object('error', jsonb_build_object(
    'http_code', 403,
    'message', 'Sign-ups are limited to approved email domains'));
end $$;
revoke execute on function public.hook_before_user_created(jsonb) from public, anon, authenticated;
grant usage on schema private to supabase_auth_admin;
grant execute on function private.email_domain_allowed(text) to supabase_auth_admin;
grant execute on function public.hook_before_user_created(jsonb) to supabase_auth_admin;

-- Rate limits: fixed windows counted in Postgres, so they hold across function instances ------
create table public.rate_limit_counters (
  user_id uuid not null references auth.users (id) on delete cascade,
  route_class text not null,
  window_start timestamptz not null,
  count int not null default 0,
  primary key (user_id, route_class, window_start)
);
create index rate_limit_counters_window on public.rate_limit_counters (window_start);
alter table public.rate_limit_counters enable row level security;
create policy "rate_limit_counters: owner reads" on public.rate_limit_counters
  for select to authenticated using (user_id = (select auth.uid()));
revoke insert, update, delete on public.rate_limit_counters from anon, authenticated;

-- Counts one request of `p_class` for the user; one upsert, so concurrent requests serialize on
-- the counter row and exactly `requests` of them per window are allowed. Settings
-- rate_limit.<class>, overridden per user by profiles.rate_limits -> <class>. No row comes back
-- for a user without a profile (a deleted account whose token has not expired yet).
create function private.check_rate_limit(p_user uuid, p_class text)
returns table (allowed boolean, max_requests int, remaining int, window_seconds int,
               retry_after_seconds int)
language plpgsql security definer set search_path = '' as $$
declare
  own jsonb;
  cfg jsonb;
  lim int;
  win int;
  win_start timestamptz;
  n int;
begin
  select p.rate_limits -> p_class into own from public.profiles p where p.id = p_user;
  if not found then
    return;
  end if;
  cfg := coalesce((select value from public.app_settings where key = 'rate_limit.' || p_class),
                  '{}'::jsonb) || coalesce(own, '{}'::jsonb);
  lim := (cfg ->> 'requests')::int;
  win := greatest(coalesce((cfg ->> 'window_seconds')::int, 60), 1);
  if lim is null then -- no limit configured for this class
    return query select true, null::int, null::int, win, 0;
    return;
  end if;
  win_start := to_timestamp(floor(extract(epoch from now()) / win) * win);
  insert into public.rate_limit_counters as r (user_id, route_class, window_start, count)
  values (p_user, p_class, win_start, 1)
  on conflict (user_id, route_class, window_start) do update set count = r.count + 1
  returning r.count into n;
  return query select n <= lim, lim, greatest(lim - n, 0), win,
    greatest(ceil(extract(epoch from win_start + make_interval(secs => win) - clock_timestamp())), 1)::int;
end $$;
revoke execute on function private.check_rate_limit(uuid, text) from public, anon, authenticated;

-- Retention of old counter rows (private.retention_rules comes from the scheduled-work migration).
do $$
begin
  if to_regclass('private.retention_rules') is not null then
    insert into private.retention_rules (name, table_name, time_column, window_setting, condition)
      values ('rate_limits', 'public.rate_limit_counters', 'window_start', 'retention.rate_limits', null)
      on conflict (name) do nothing;
  end if;
end $$;

-- Budgets ------------------------------------------------------------------------------------
-- This calendar month's (UTC) spend against the user's budget: `ok`, `soft` (past the soft
-- limit: chat answers with budget.downgrade_model) or `hard` (no more provider calls).
create function private.budget_status(p_user uuid) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  month_start date := date_trunc('month', now() at time zone 'UTC')::date;
  budget numeric;
  ratio numeric;
  spent bigint;
begin
  budget := coalesce(
    (select p.monthly_budget_usd from public.profiles p where p.id = p_user),
    (select nullif(value, 'null'::jsonb) #>> '{}' from public.app_settings
     where key = 'budget.default_monthly_usd')::numeric);
  ratio := coalesce((select (value #>> '{}')::numeric from public.app_settings
                     where key = 'budget.soft_limit_ratio'), 0.8);
  select coalesce(sum(d.cost_micro_usd), 0) into spent
  from public.usage_daily d where d.user_id = p_user and d.day >= month_start;
  return jsonb_build_object(
    'budget_usd', budget,
    'spent_usd', round(spent / 1e6, 6),
    'soft_limit_usd', round(budget * ratio, 6),
    'state', case when budget is null then 'ok'
                  when spent >= budget * 1e6 then 'hard'
                  when spent >= budget * ratio * 1e6 then 'soft'
                  else 'ok' end,
    'downgrade_model', (select value #>> '{}' from public.app_settings
                        where key = 'budget.downgrade_model'),
    'period_start', month_start,
    'resets_at', (month_start + interval '1 month') at time zone 'UTC');
end $$;
revoke execute on function private.budget_status(uuid) from public, anon, authenticated;

-- GDPR: export and deletion of everything a user owns --------------------------------------
-- User-owned tables are found in the catalog, so tables added later are covered: tables in
-- public with a uuid user_id or owner_id column, plus profiles.id. `cascades` says whether that
-- column is a foreign key to auth.users with ON DELETE CASCADE.
create function private.user_owned_tables()
returns table (rel regclass, table_name text, column_name text, cascades boolean)
language sql stable security definer set search_path = '' as $$
  select c.oid::regclass, c.relname::text, a.attname::text,
         exists (select 1 from pg_catalog.pg_constraint k
                 where k.conrelid = c.oid and k.contype = 'f' and k.confdeltype = 'c'
                   and k.confrelid = 'auth.users'::regclass and k.conkey = array[a.attnum])
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
    and a.atttypid = 'uuid'::regtype
    and (a.attname in ('user_id', 'owner_id') or (c.relname = 'profiles' and a.attname = 'id'))
  order by c.relname, a.attname
$$;
revoke execute on function private.user_owned_tables() from public, anon, authenticated;

-- Everything the caller (auth.uid(), from their verified JWT) owns, as {table: [rows]}. Left
-- out: search vectors and embeddings (derived data) and columns named like credentials.
create function private.export_account() returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  uid uuid := auth.uid();
  t record;
  hidden text[];
  rows jsonb;
  result jsonb := '{}'::jsonb;
begin
  if uid is null then
    raise exception 'no signed-in user' using errcode = '42501';
  end if;
  for t in select o.rel, o.table_name, array_agg(o.column_name) as columns
           from private.user_owned_tables() o group by o.rel, o.table_name order by o.table_name
  loop
    select coalesce(array_agg(a.attname::text), '{}') into hidden
    from pg_catalog.pg_attribute a
    where a.attrelid = t.rel and a.attnum > 0 and not a.attisdropped
      and (a.atttypid = 'tsvector'::regtype or a.atttypid = to_regtype('extensions.vector')
           or a.attname ~* '(secret|password|access_token|refresh_token|api_key)');
    execute format('select coalesce(jsonb_agg(to_jsonb(r) - $2), ''[]''::jsonb) from %s r where %s',
                   t.rel, (select string_agg(format('r.%I = $1', c), ' or ') from unnest(t.columns) c))
      into rows using uid, hidden;
    result := result || jsonb_build_object(t.table_name, rows);
  end loop;
  return result;
end $$;
revoke execute on function private.export_account() from public, anon;
grant execute on function private.export_account() to authenticated;

-- Deletes the caller's auth user and everything they own. Owner columns that do not cascade
-- from auth.users are cleared first; the rest goes with the auth user.
create function private.delete_account() returns void
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := auth.uid();
  t record;
begin
  if uid is null then
    raise exception 'no signed-in user' using errcode = '42501';
  end if;
  for t in select o.rel, o.column_name from private.user_owned_tables() o where not o.cascades loop
    execute format('delete from %s where %I = $1', t.rel, t.column_name) using uid;
  end loop;
  delete from auth.users where id = uid;
end $$;
revoke execute on function private.delete_account() from public, anon;
grant execute on function private.delete_account() to authenticated;
