-- Who may use Aide, defined once: private.account_access(user id). The functions' auth
-- middleware asks it on every request, and a restrictive policy on every table in public (and
-- on storage.objects) asks it for every PostgREST and Storage request, so a user whose email is
-- unconfirmed, or whose domain is not (or no longer) on auth.allowed_email_domains, reads and
-- writes nothing, whichever way they come in.
--
-- The sign-up hook (public.hook_before_user_created) still refuses other domains at sign-up;
-- it cannot ask for a confirmed email, since the user does not exist yet.

-- 'allowed', or why not: 'no_account' (unknown or deleted user), 'banned',
-- 'email_not_confirmed' (Supabase Auth sets email_confirmed_at when the user follows the
-- confirmation link), 'domain_not_allowed'.
create function private.account_access(p_user_id uuid) returns text
language sql stable security definer set search_path = '' as $$
  select coalesce(
    (select case
       when u.deleted_at is not null then 'no_account'
       when u.banned_until is not null and u.banned_until > now() then 'banned'
       when u.email_confirmed_at is null then 'email_not_confirmed'
       when not private.email_domain_allowed(u.email) then 'domain_not_allowed'
       else 'allowed' end
     from auth.users u where u.id = p_user_id),
    'no_account')
$$;
revoke execute on function private.account_access(uuid) from public, anon;
-- Policies run as the caller, so signed-in users need it (private is not exposed by PostgREST).
grant execute on function private.account_access(uuid) to authenticated;

-- The policy every user-facing table carries. Restrictive: it is ANDed with the table's own
-- (permissive) policies, so it only ever takes rights away. Tables added later get it with
-- `select private.restrict_to_allowed_accounts('public.<table>')` right after their own
-- policies (tests/db/10_security.sql fails for a table in public without it).
create function private.restrict_to_allowed_accounts(p_table regclass) returns void
language plpgsql set search_path = '' as $$
begin
  execute format('drop policy if exists "allowed accounts only" on %s', p_table);
  execute format(
    'create policy "allowed accounts only" on %s as restrictive for all to authenticated
       using ((select private.account_access((select auth.uid()))) = ''allowed'')
       with check ((select private.account_access((select auth.uid()))) = ''allowed'')',
    p_table);
end $$;
revoke execute on function private.restrict_to_allowed_accounts(regclass) from public, anon, authenticated;

select private.restrict_to_allowed_accounts(c.oid::regclass)
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition;

-- Storage: every bucket's objects (today the `documents` bucket).
select private.restrict_to_allowed_accounts('storage.objects');
