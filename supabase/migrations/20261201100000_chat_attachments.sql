-- Files sent with chat messages (images, PDFs, text files): the bytes live in the private Storage
-- bucket `chat-attachments` under the user's folder (`<user id>/<conversation id>/<attachment
-- id>/<file name>`), never in the database; a row of `chat_attachments` describes each file (an
-- uploaded one is sent by its id, in any message of its conversation), and the user message
-- keeps an `attachment` part with the same description (path, media type, size, sha256, name). Uploaded first (POST /conversations/:id/attachments) or sent inline
-- as a data URL, a file ends in the same row and the same part.

-- Storage: user folders ---------------------------------------------------------------------
-- The one rule for a private bucket of user files: a signed-in user reads, adds and removes
-- objects under the folder named by their id, and nothing else. Both buckets take it from here.
create function private.create_user_folder_policies(p_bucket text) returns void
language plpgsql set search_path = '' as $$
declare
  v_rule text := format(
    'bucket_id = %L and (storage.foldername(name))[1] = (select auth.uid())::text', p_bucket);
begin
  execute format('drop policy if exists %I on storage.objects', p_bucket || ' bucket: owners read their files');
  execute format('drop policy if exists %I on storage.objects', p_bucket || ' bucket: owners upload into their folder');
  execute format('drop policy if exists %I on storage.objects', p_bucket || ' bucket: owners delete their files');
  execute format('create policy %I on storage.objects for select to authenticated using (%s)',
                 p_bucket || ' bucket: owners read their files', v_rule);
  execute format('create policy %I on storage.objects for insert to authenticated with check (%s)',
                 p_bucket || ' bucket: owners upload into their folder', v_rule);
  execute format('create policy %I on storage.objects for delete to authenticated using (%s)',
                 p_bucket || ' bucket: owners delete their files', v_rule);
end $$;
revoke execute on function private.create_user_folder_policies(text) from public, anon, authenticated;

-- The documents bucket's policies, now written by the same function (same names, same rule).
select private.create_user_folder_policies('documents');

-- The per-file ceiling here is a backstop: the limits users meet are the app settings below
-- (media types are checked by the functions, which know `text/*`).
insert into storage.buckets (id, name, public, file_size_limit)
values ('chat-attachments', 'chat-attachments', false, 33554432)
on conflict (id) do nothing;
select private.create_user_folder_policies('chat-attachments');

-- Limits --------------------------------------------------------------------------------------
insert into public.app_settings (key, value, description) values
  ('chat.attachments.max_file_bytes', '10485760',
   'largest attachment, in bytes (413 payload_too_large)'),
  ('chat.attachments.max_files', '5',
   'attachments per message (422 too_many_attachments)'),
  ('chat.attachments.max_message_bytes', '20971520',
   'all attachments of one message together, in bytes (413 payload_too_large)'),
  ('chat.attachments.media_types',
   '["image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf", "text/*"]',
   'media types a message may carry; "text/*" is every text type (415 unsupported_media_type)'),
  ('chat.attachments.url_seconds', '3600',
   'how long the signed links in API answers stay valid'),
  ('chat.attachments.history_bytes', '10485760',
   'attachments of earlier turns re-sent to the model, newest first, up to this many bytes; older ones are described in text')
on conflict (key) do nothing;

-- The registry says which models read which files.
update public.models set capabilities = capabilities || '{"vision": true, "pdf": true}'::jsonb
where alias in ('claude-opus-4-5', 'claude-sonnet-4.5', 'claude-haiku-4.5', 'gpt-5.2', 'gpt-5-mini');

-- Attachments -----------------------------------------------------------------------------------
create table public.chat_attachments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  storage_path text not null unique check (char_length(storage_path) <= 1024),
  media_type text not null check (char_length(media_type) <= 255),
  size_bytes bigint not null check (size_bytes >= 0),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  filename text not null check (char_length(filename) between 1 and 255),
  created_at timestamptz not null default now(),
  -- A path is always inside the owner's own folder, whoever writes the row.
  constraint chat_attachments_in_owner_folder
    check (split_part(storage_path, '/', 1) = user_id::text
           and split_part(storage_path, '/', 2) = conversation_id::text
           and split_part(storage_path, '/', 3) = id::text)
);
-- user_id for the policies (and the account export), conversation_id for the send path's
-- lookup and the cascade.
create index chat_attachments_user on public.chat_attachments (user_id);
create index chat_attachments_conversation on public.chat_attachments (conversation_id);

alter table public.chat_attachments enable row level security;
create policy "chat_attachments: owner reads" on public.chat_attachments
  for select to authenticated using (user_id = (select auth.uid()));
create policy "chat_attachments: owner adds to own conversations" on public.chat_attachments
  for insert to authenticated with check (
    user_id = (select auth.uid())
    and exists (select 1 from public.conversations c
                where c.id = conversation_id and c.user_id = (select auth.uid()))
  );
create policy "chat_attachments: owner removes" on public.chat_attachments
  for delete to authenticated using (user_id = (select auth.uid()));
select private.restrict_to_allowed_accounts('public.chat_attachments');
-- Rows are written once (a file does not change); messages keep their own copy of the part.
revoke insert, update on public.chat_attachments from anon, authenticated;
grant insert (id, conversation_id, storage_path, media_type, size_bytes, sha256, filename)
  on public.chat_attachments to authenticated;
revoke delete on public.chat_attachments from anon;

-- Parts a share link leaves out unless it was made with include_attachments: they show the
-- user's documents (mentions: file; citations) or files (attachments; artifacts add themselves in
-- 20261201111000). One list, read by freeze_share, which now takes it instead of its own.
create function private.private_part_types() returns text[]
language sql immutable set search_path = '' as $$
  select array['file', 'citation', 'attachment']
$$;
revoke execute on function private.private_part_types() from public, anon, authenticated;

create or replace function private.freeze_share() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_leaf uuid;
begin
  select c.title, c.active_leaf_id into new.title, v_leaf
  from public.conversations c where c.id = new.conversation_id;
  with recursive branch as (
    select m.id, m.parent_id, m.role, m.parts, m.content, m.model, m.created_at, 0 as depth
    from public.messages m where m.id = v_leaf
    union all
    select m.id, m.parent_id, m.role, m.parts, m.content, m.model, m.created_at, b.depth + 1
    from public.messages m join branch b on m.id = b.parent_id
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', b.id, 'role', b.role, 'content', b.content, 'model', b.model,
           'created_at', b.created_at,
           'parts', (select coalesce(jsonb_agg(p.part order by p.n), '[]'::jsonb)
                     from jsonb_array_elements(b.parts) with ordinality as p(part, n)
                     where new.include_attachments
                        or not (p.part ->> 'type' = any (private.private_part_types()))))
         order by b.depth desc), '[]'::jsonb)
  into new.messages
  from branch b;
  return new;
end
$$;
revoke execute on function private.freeze_share() from public, anon, authenticated;
