-- The sidebar's index: GET /conversations lists a user's unarchived conversations pinned first,
-- then by last activity (coalesce(last_message_at, created_at)), then id, newest first. The old
-- conversations_user_recent (user, activity, id) did not lead with `pinned`, so every page read
-- all of the user's conversations and sorted them (a Seq Scan and a top-N sort over 10,000 rows
-- in bench/scale.ts). This one is walked backwards and stops at the page's limit.
--
-- Deploying on a large table: `create index concurrently` builds without blocking writes (two
-- passes over the table, waiting for the transactions that write to it); it cannot run inside a
-- transaction block, so it sits alone in its file: the Supabase CLI runs each migration file in
-- a transaction but runs a statement that cannot (create/drop index concurrently) on its own.
-- If a build is interrupted, the index is left INVALID; `drop index concurrently` it and run the
-- migration's statement again. About 60 bytes a conversation.
create index concurrently if not exists conversations_sidebar on public.conversations
  (user_id, pinned, (coalesce(last_message_at, created_at)), id)
  where deleted_at is null and archived_at is null;
