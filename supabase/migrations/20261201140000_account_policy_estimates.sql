-- The allowlist policy (private.restrict_to_allowed_accounts, 20261201010000), written so that
-- the planner counts it as letting every row through. Same rule, same function: only the shape
-- of the expression changes.
--
-- Why: Postgres evaluates a security qual at its table even when it mentions no column (it is
-- never turned into a one-time filter), and estimates it like any other qual. The old form,
-- `(select private.account_access(...)) = 'allowed'`, compares an unknown value with a constant:
-- default selectivity 0.5%. So every RLS query was planned for 1/200 of its rows, and a query
-- that should walk an index in order and stop early (hybrid_search's HNSW side, a LIMIT over
-- an ordered index) was planned as a sequential scan and sort: at 100k chunks, 0.6 s instead of
-- a few ms (docs/BENCHMARKS.md, "Profile: search"). `x is not null` over an unknown value is
-- estimated at 99.5%, so the new form is "is not null" over a value that is null unless the
-- account is allowed (`= 'allowed' or null`: true, or null for false and for null).
--
-- Cost on a deployed project: replacing a policy is a catalog change; each table is locked
-- (ACCESS EXCLUSIVE) only for the drop and create, no table is rewritten or scanned.
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
