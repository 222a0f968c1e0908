-- The allowlist policy (private.restrict_to_allowed_accounts, see 20261201010000) on every table
-- in public, once more after the migrations of this round that added tables, in case one of
-- them did not add it itself. Re-runnable: the policy is replaced, never doubled. New tables
-- should still add it in their own migration; tests/db/10_security.sql checks every table.
select private.restrict_to_allowed_accounts(c.oid::regclass)
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition;
