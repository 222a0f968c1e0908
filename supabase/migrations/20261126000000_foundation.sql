-- Foundation: the extensions Aide uses, the private schema for privileged code, and user
-- profiles.

-- Extensions, where Supabase puts them (never in public).
create extension if not exists vector with schema extensions;
create extension if not exists pg_trgm with schema extensions;
create extension if not exists pg_cron with schema pg_catalog;
create extension if not exists pg_net with schema extensions;

-- Privileged functions live here: not exposed through the API, callable only by the roles
-- that are granted each function explicitly.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to postgres, service_role;
alter default privileges in schema private revoke execute on functions from public;

-- Profiles: one per auth user, created by a trigger on auth.users.
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  display_name text check (char_length(display_name) <= 200),
  timezone text not null default 'UTC',
  role text not null default 'user' check (role in ('user', 'admin')),
  phone text,
  phone_verified boolean not null default false,
  preferences jsonb not null default '{}'::jsonb,
  monthly_budget_usd numeric(12, 2) check (monthly_budget_usd >= 0),
  -- Per-user overrides of the rate_limit.* settings, e.g. {"chat": {"requests": 100}}.
  rate_limits jsonb not null default '{}'::jsonb check (jsonb_typeof(rate_limits) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

alter table public.profiles enable row level security;

create policy "profiles: update own" on public.profiles
  for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));

-- Users may change their name, timezone and preferences, never their role, budget, rate
-- limits or email.
revoke insert, update, delete on public.profiles from anon, authenticated;
grant update (display_name, timezone, preferences) on public.profiles to authenticated;

-- Admin rights come from profiles.role; policies call this (RLS, not only TypeScript, decides).
create function private.is_admin() returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.profiles where id = (select auth.uid()) and role = 'admin')
$$;
revoke execute on function private.is_admin() from public, anon;
grant usage on schema private to authenticated;
grant execute on function private.is_admin() to authenticated;

-- Admins read every profile (one permissive policy per action).
create policy "profiles: read own, admins read all" on public.profiles
  for select to authenticated using (id = (select auth.uid()) or (select private.is_admin()));

create function private.touch_updated_at() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.updated_at := now();
  return new;
end $$;

-- For read-only views: refuses any write that gets past the privilege check.
create function private.refuse_write() returns trigger
language plpgsql set search_path = '' as $$
begin
  raise exception '%.% is read-only', tg_table_schema, tg_table_name using errcode = '42501';
end $$;
revoke execute on function private.refuse_write() from public, anon, authenticated;

create trigger profiles_touch before update on public.profiles
  for each row execute function private.touch_updated_at();

create function private.create_profile_for_new_user() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, email, display_name)
  values (new.id, new.email, coalesce(new.raw_user_meta_data ->> 'display_name', split_part(new.email, '@', 1)))
  on conflict (id) do nothing;
  return new;
end $$;
revoke execute on function private.create_profile_for_new_user() from public;

create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.create_profile_for_new_user();

