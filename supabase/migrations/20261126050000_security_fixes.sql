-- Fixes for what the security suites found (tests/db/10_security.sql and
-- tests/security/rls_matrix_test.ts) in the earlier migrations.

-- conversations.user_id is the column of every conversations policy and a foreign key to
-- auth.users, but its only index was partial (deleted_at is null): RLS reads that include
-- soft-deleted rows and the cascade when an account is deleted scanned the whole table.
create index if not exists conversations_user on public.conversations (user_id);

-- Trigger functions that are SECURITY DEFINER kept Postgres's default EXECUTE for PUBLIC (so for
-- anon): `alter default privileges in schema private revoke ... from public` cannot take away a
-- default that is granted globally, so every function in private needs its own revoke.
revoke execute on function private.roll_up_usage() from public, anon, authenticated;
revoke execute on function private.sync_chunk_visibility() from public, anon, authenticated;
revoke execute on function private.queue_ingestion() from public, anon, authenticated;

-- tool_usage is a read-only view (one row per tool result part). A write through PostgREST
-- failed in Postgres's rewriter ("cannot insert into view", answered 500) before any privilege
-- was checked. Without the privileges, and with INSTEAD OF triggers that refuse, Postgres gets as
-- far as the privilege check and writes are refused as they should be: 401 for anon, 403 for
-- signed-in users (the trigger refuses anyone who still holds the privilege, e.g. service_role).
revoke insert, update, delete, truncate on public.tool_usage from anon, authenticated;

create function private.refuse_write() returns trigger
language plpgsql set search_path = '' as $$
begin
  raise exception '%.% is read-only', tg_table_schema, tg_table_name using errcode = '42501';
end $$;
revoke execute on function private.refuse_write() from public, anon, authenticated;

create trigger tool_usage_read_only instead of insert or update or delete on public.tool_usage
  for each row execute function private.refuse_write();
