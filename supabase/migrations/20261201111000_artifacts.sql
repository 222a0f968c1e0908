-- Artifacts (seed 002): files a chat tool produced (create_artifact: a generated file, a diff),
-- each linked to the tool call that made it (message_id + tool_call_id, the seed's
-- message_part_id) and stored in the private Storage bucket `chat-artifacts`, under the owner's
-- folder. The message carries an `artifact` part with the same metadata (parts.ts); this table
-- is what downloads, exports and account deletion go by.
--
-- A row always has its object: the function uploads first and writes the row after, removing
-- the object again if the row is refused (_shared/chat/artifacts.ts). Nobody writes rows
-- through the API.

insert into public.app_settings (key, value, description) values
  ('chat.artifact_max_bytes', '200000',
   'largest file (UTF-8 bytes) a chat tool may produce; at most the chat-artifacts bucket''s 10 MB'),
  ('chat.max_artifacts_per_reply', '10', 'files chat tools may produce in one reply')
on conflict (key) do nothing;

create table public.artifacts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  message_id uuid not null references public.messages (id) on delete cascade,
  -- The tool call (a part of the message) that made it: one artifact per call.
  tool_call_id text not null check (char_length(tool_call_id) between 1 and 200),
  kind text not null check (kind in ('file', 'file_diff')),
  -- The file's name as the tool gave it, e.g. "src/app.ts" (relative, no "..").
  path text not null check (char_length(path) between 1 and 255),
  mime text not null check (char_length(mime) <= 100),
  size bigint not null check (size >= 0),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  -- The Storage object: <user_id>/<id>/<file name> in bucket chat-artifacts.
  object_path text not null unique,
  created_at timestamptz not null default now(),
  unique (message_id, tool_call_id)
);
create index artifacts_user on public.artifacts (user_id);
create index artifacts_conversation on public.artifacts (conversation_id, created_at);

alter table public.artifacts enable row level security;
create policy "artifacts: owner reads" on public.artifacts
  for select to authenticated using (user_id = (select auth.uid()));
select private.restrict_to_allowed_accounts('public.artifacts');
revoke insert, update, delete on public.artifacts from anon, authenticated;

-- The bucket: private, each user's files under their folder (the one rule for such buckets,
-- private.create_user_folder_policies). Media types: the tool's list decides
-- (ARTIFACT_MEDIA_TYPES in _shared/chat/artifacts.ts); the size limit here is a backstop.
insert into storage.buckets (id, name, public, file_size_limit)
values ('chat-artifacts', 'chat-artifacts', false, 10485760)
on conflict (id) do nothing;
select private.create_user_folder_policies('chat-artifacts');

-- Artifacts are the user's files too: a share link leaves them out unless include_attachments
-- (the list read by freeze_share, 20261201100000).
create or replace function private.private_part_types() returns text[]
language sql immutable set search_path = '' as $$
  select array['file', 'citation', 'attachment', 'artifact']
$$;
