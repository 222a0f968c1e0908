-- conversations_sidebar (20261201140100) serves every read conversations_user_recent served:
-- nothing orders a user's conversations by activity without `pinned` first (the planner's own
-- conversations have conversations_user_kind_recent). Dropped concurrently, in a file of its
-- own for the same reason as the build (no lock that blocks reads or writes on a large table).
drop index concurrently if exists public.conversations_user_recent;
