-- Foundation invariants, checked inside the database with pgTAP.
begin;
select plan(9);

select has_extension('extensions', 'vector', 'pgvector lives in the extensions schema');
select has_extension('extensions', 'pg_trgm', 'pg_trgm lives in the extensions schema');
select is_empty(
  $$ select e.extname from pg_extension e join pg_namespace n on n.oid = e.extnamespace
     where n.nspname = 'public' $$,
  'no extension is installed in public');
select is_empty(
  $$ select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity $$,
  'every table in public has row level security enabled');

-- A new auth user (email confirmed: Aide admits no other) gets a profile, with the default
-- role and timezone.
insert into auth.users (id, email, email_confirmed_at)
  values ('00000000-0000-0000-0000-00000000a11c', 'tap@example.com', now());
select results_eq(
  $$ select email, role, timezone from public.profiles where id = '00000000-0000-0000-0000-00000000a11c' $$,
  $$ values ('tap@example.com', 'user', 'UTC') $$,
  'the auth.users trigger creates a profile');

-- As that user, through the same role and claims PostgREST would use.
set local role authenticated;
set local request.jwt.claims = '{"sub": "00000000-0000-0000-0000-00000000a11c", "role": "authenticated"}';
select is((select auth.uid()), '00000000-0000-0000-0000-00000000a11c'::uuid, 'auth.uid() reads the JWT claims');
select throws_ok(
  $$ update public.profiles set role = 'admin' $$,
  '42501', null, 'a user cannot change their own role');
select lives_ok(
  $$ update public.profiles set timezone = 'Europe/Paris' $$,
  'a user can change their own timezone');
reset role;
select is((select timezone from public.profiles where id = '00000000-0000-0000-0000-00000000a11c'),
  'Europe/Paris', 'the update was applied');

select * from finish();
rollback;
