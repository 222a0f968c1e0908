-- What the allowlist (private.account_access, 20261201010000) costs every query under RLS, and how
-- the planner counts it. Same rule, same functions, same policy name: only the shape changes.
--
-- 1. Its restrictive policy (private.restrict_to_allowed_accounts) is estimated as letting every
-- row through. Postgres evaluates a security qual at its table even when it mentions no column
-- (it never becomes a one-time filter), and estimates it like any other qual. The old form,
-- `(select private.account_access(...)) = 'allowed'`, compares an unknown value with a constant:
-- default selectivity 0.5%. So every RLS query was planned for 1/200 of its rows, and a query
-- that should walk an index in order and stop early (hybrid_search's HNSW side, a LIMIT over an
-- ordered index) was planned as a sequential scan and a sort: at 100k chunks, 0.6 s instead of a
-- few ms (docs/BENCHMARKS.md, "Profile: search"). `x is not null` over an unknown value is
-- estimated at 99.5%, so the new form is "is not null" over a value that is null unless the
-- account is allowed (`= 'allowed' or null`: true, or null for false and for null).
--
-- 2. private.account_access and private.email_domain_allowed are PL/pgSQL (were SQL). A SQL
-- function that cannot be inlined (security definer) has its body parsed and planned again in
-- every statement that calls it; the policy calls it once per table a statement reads, so every
-- statement a function or PostgREST runs paid it: 1.2 ms a call, against 0.3 ms for PL/pgSQL,
-- which keeps its plans for the session (pgbench, one call a statement, on the shared machine).
--
-- Cost on a deployed project: replacing functions and policies is a catalog change; each table is
-- locked (ACCESS EXCLUSIVE) only for its policy's drop and create, no table is rewritten or scanned.

create or replace function private.email_domain_allowed(p_email text) returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  domains jsonb := (select value from public.app_settings where key = 'auth.allowed_email_domains');
begin
  -- No list (or an empty one): every domain.
  return domains is null or jsonb_typeof(domains) <> 'array' or jsonb_array_length(domains) = 0
    or exists (select 1 from jsonb_array_elements_text(domains) d
               where lower(d) = lower(substring(p_email from '@([^@]+)$')));
end $$;

-- 'allowed', or why not: 'no_account' (unknown or deleted user), 'banned',
-- 'email_not_confirmed', 'domain_not_allowed' (as in 20261201010000).
create or replace function private.account_access(p_user_id uuid) returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  access text;
begin
  select case
      when u.deleted_at is not null then 'no_account'
      when u.banned_until is not null and u.banned_until > now() then 'banned'
      when u.email_confirmed_at is null then 'email_not_confirmed'
      when not private.email_domain_allowed(u.email) then 'domain_not_allowed'
      else 'allowed' end
    into access
  from auth.users u where u.id = p_user_id;
  return coalesce(access, 'no_account');
end $$;

create or replace function private.restrict_to_allowed_accounts(p_table regclass) returns void
language plpgsql set search_path = '' as $$
begin
  execute format('drop policy if exists "allowed accounts only" on %s', p_table);
  execute format(
    'create policy "allowed accounts only" on %s as restrictive for all to authenticated
       using ((select private.account_access((select auth.uid())) = ''allowed'' or null) is not null)
       with check ((select private.account_access((select auth.uid())) = ''allowed'' or null) is not null)',
    p_table);
end $$;
revoke execute on function private.restrict_to_allowed_accounts(regclass) from public, anon, authenticated;

select private.restrict_to_allowed_accounts(c.oid::regclass)
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition;

select private.restrict_to_allowed_accounts('storage.objects');
