-- Security rules of SPEC section 4, checked on the catalog: every table, policy and function that
-- exists when the tests run, so what a later migration adds is checked without anyone listing it.
-- Each check lists the offending objects (pgTAP prints them under "Unexpected records").
begin;
select plan(14);

-- The schemas PostgREST exposes (supabase/config.toml [api] schemas; graphql_public holds none
-- of our objects), and the schemas that belong to the platform or to extensions, not to us.
create temp table exposed (nspname name primary key);
insert into exposed values ('public');
create temp table platform (nspname name primary key);
insert into platform values ('pg_catalog'), ('information_schema'), ('pg_toast'), ('auth'),
  ('storage'), ('extensions'), ('vault'), ('net'), ('cron'), ('realtime'), ('_realtime'),
  ('graphql'), ('graphql_public'), ('pgbouncer'), ('pgsodium'), ('pgsodium_masks'),
  ('supabase_functions'), ('supabase_migrations'), ('_analytics'), ('pgtle');

-- SECURITY DEFINER functions allowed in an exposed schema, each with its reason. Today there are
-- none: the Auth hook public.hook_before_user_created runs as its caller (supabase_auth_admin)
-- and reaches the allowlist through private.email_domain_allowed.
create temp table definer_allowed (fn regprocedure primary key, reason text not null);
-- insert into definer_allowed values ('public.some_hook(jsonb)', 'why it must be a definer');

-- Our functions: not from an extension.
create temp view our_functions as
  select p.oid, format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) as fn,
         n.nspname, p.prosecdef, p.proconfig
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where not exists (select 1 from pg_depend d
                    where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e');

select is_empty(
  $$ select format('%I.%I has row level security disabled', n.nspname, c.relname)
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in (select nspname from exposed) and c.relkind in ('r', 'p')
       and not c.relrowsecurity $$,
  'every table in an exposed schema has row level security enabled');

-- A bare auth.uid() in a policy is evaluated once per row; wrapped in a select it is evaluated
-- once per statement (an initplan). Postgres stores the wrapped form as "( SELECT auth.uid() AS uid)".
select is_empty(
  $$ select format('policy %L on %I.%I calls %s without (select ...)', policyname, schemaname,
                   tablename, (regexp_match(expr, '(auth\.\w+\(\)|current_setting\([^)]*\))'))[1])
     from pg_policies,
          lateral (select coalesce(qual, '') || ' ' || coalesce(with_check, '') as policy_text) t,
          lateral (select regexp_replace(policy_text,
                     '\(\s*SELECT\s+(auth\.\w+\(\)|current_setting\([^)]*\))\s+AS\s+\w+\)', '',
                     'gi') as expr) e
     where schemaname in (select nspname from exposed union select 'storage')
       and expr ~* '(auth\.\w+\(\)|current_setting\()' $$,
  'every policy wraps auth.uid() (and auth.jwt(), current_setting()) in (select ...)');

select is_empty(
  $$ select format('policy %L on %I.%I applies to every role (to public): name its roles, e.g. to authenticated',
                   policyname, schemaname, tablename)
     from pg_policies
     where schemaname in (select nspname from exposed union select 'storage')
       and 'public' = any (roles) $$,
  'every policy names the roles it applies to');

-- Foreign keys: deleting or updating the referenced row looks the referencing rows up by these
-- columns. A partial index does not serve that lookup.
select is_empty(
  $$ select format('%s: foreign key %I on (%s) has no index starting with those columns',
                   k.conrelid::regclass, k.conname,
                   (select string_agg(a.attname, ', ' order by a.attnum) from pg_attribute a
                    where a.attrelid = k.conrelid and a.attnum = any (k.conkey)))
     from pg_constraint k
     join pg_class c on c.oid = k.conrelid
     join pg_namespace n on n.oid = c.relnamespace
     where k.contype = 'f' and n.nspname in (select nspname from exposed)
       and not exists (
         select 1 from pg_index i
         where i.indrelid = k.conrelid and i.indpred is null
           and (i.indkey::int2[])[0:cardinality(k.conkey) - 1] @> k.conkey
           and (i.indkey::int2[])[0:cardinality(k.conkey) - 1] <@ k.conkey) $$,
  'every foreign key in an exposed schema has an index on its columns');

-- Columns that policies compare with auth.uid() (unqualified: columns of the policy's own table).
select is_empty(
  $$ select distinct format('%I.%I: column %I is compared with auth.uid() in policy %L but no index starts with it',
                            p.schemaname, p.tablename, m[1], p.policyname)
     from pg_policies p
     cross join lateral regexp_matches(coalesce(p.qual, '') || ' ' || coalesce(p.with_check, ''),
       '(?:^|[^.\w])(\w+) = \( SELECT auth\.uid\(\) AS uid\)', 'g') m
     join pg_attribute a on a.attrelid = format('%I.%I', p.schemaname, p.tablename)::regclass
                        and a.attname = m[1] and a.attnum > 0 and not a.attisdropped
     where p.schemaname in (select nspname from exposed)
       and not exists (select 1 from pg_index i
                       where i.indrelid = a.attrelid and i.indpred is null
                         and i.indkey[0] = a.attnum) $$,
  'every column a policy compares with auth.uid() is indexed');

select is_empty(
  $$ select format('%s is SECURITY DEFINER without search_path set', fn)
     from our_functions
     where prosecdef
       and nspname not in (select nspname from exposed union select nspname from platform)
       and not exists (select 1 from unnest(proconfig) s where s like 'search_path=%') $$,
  'every SECURITY DEFINER function outside the exposed schemas sets search_path');

select is_empty(
  $$ select format('%s is SECURITY DEFINER and anon may execute it', fn)
     from our_functions
     where prosecdef
       and nspname not in (select nspname from exposed union select nspname from platform)
       and has_function_privilege('anon', oid, 'EXECUTE') $$,
  'no SECURITY DEFINER function outside the exposed schemas is executable by anon');

select is_empty(
  $$ select format('%s is SECURITY DEFINER in an exposed schema: move it to private, or allow it with a reason in tests/db/10_security.sql', fn)
     from our_functions
     where prosecdef and nspname in (select nspname from exposed)
       and oid not in (select fn from definer_allowed) $$,
  'no SECURITY DEFINER function in an exposed schema, unless allowed with a reason');

select is_empty(
  $$ select format('%s does not set search_path', fn)
     from our_functions
     where nspname in (select nspname from exposed)
       and not exists (select 1 from unnest(proconfig) s where s like 'search_path=%') $$,
  'every function in an exposed schema sets search_path');

select is_empty(
  $$ select format('extension %I is installed in %I', e.extname, n.nspname)
     from pg_extension e join pg_namespace n on n.oid = e.extnamespace
     where n.nspname = 'public' or n.nspname in (select nspname from exposed) $$,
  'no extension is installed in public (or another exposed schema)');

select is_empty(
  $$ select format('view %I.%I is not security_invoker: it reads with its owner''s rights, past RLS',
                   n.nspname, c.relname)
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in (select nspname from exposed) and c.relkind = 'v'
       and not coalesce(c.reloptions && array['security_invoker=true', 'security_invoker=on',
                                               'security_invoker=1'], false) $$,
  'every view in an exposed schema is security_invoker');

-- Supabase's advisor (splinter) lint function_search_path_mutable: every function and procedure
-- of ours, in any schema, fixes its search_path (a procedure that commits cannot, so none does).
select is_empty(
  $$ select format('%s (%s) does not set search_path', fn,
                   case prokind when 'p' then 'procedure' else 'function' end)
     from our_functions f join pg_proc p on p.oid = f.oid
     where f.nspname not in (select nspname from platform)
       and not exists (select 1 from unnest(f.proconfig) s where s like 'search_path=%') $$,
  'every function and procedure sets search_path (splinter: function_search_path_mutable)');

-- Splinter lint unsupported_reg_types: pg_upgrade (Supabase's Postgres upgrades) refuses
-- tables with columns of these types.
select is_empty(
  $$ select format('%I.%I.%I is of type %s, which blocks pg_upgrade: store the name as text',
                   n.nspname, c.relname, a.attname, t.typname)
     from pg_attribute a
     join pg_class c on c.oid = a.attrelid
     join pg_namespace n on n.oid = c.relnamespace
     join pg_type t on t.oid = a.atttypid
     where t.typname in ('regcollation', 'regconfig', 'regdictionary', 'regnamespace', 'regoper',
                         'regoperator', 'regproc', 'regprocedure')
       and t.typnamespace = 'pg_catalog'::regnamespace
       and a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'm')
       and n.nspname not in (select nspname from platform) and n.nspname !~ '^pg_temp_' $$,
  'no table column has a reg* type that pg_upgrade refuses (splinter: unsupported_reg_types)');

-- The allowlist in RLS: every table in an exposed schema, and storage.objects, carries the
-- restrictive policy of private.restrict_to_allowed_accounts, for every command, so an account
-- that private.account_access refuses reads and writes nothing through PostgREST or Storage.
select is_empty(
  $$ select format('%s has no restrictive policy calling private.account_access for all commands: '
                   'add select private.restrict_to_allowed_accounts(%L)', c.oid::regclass,
                   c.oid::regclass::text)
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where ((n.nspname in (select nspname from exposed) and c.relkind in ('r', 'p')
             and not c.relispartition)
            or c.oid = 'storage.objects'::regclass)
       and not exists (
         select 1 from pg_policies p
         where p.schemaname = n.nspname and p.tablename = c.relname
           and p.permissive = 'RESTRICTIVE' and p.cmd = 'ALL' and 'authenticated' = any (p.roles)
           and p.qual like '%private.account_access(%= ''allowed''%'
           and p.with_check like '%private.account_access(%= ''allowed''%') $$,
  'every table in an exposed schema and storage.objects admits allowed accounts only');

select * from finish();
rollback;
