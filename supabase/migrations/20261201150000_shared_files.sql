-- Files of a share link made with include_attachments: GET /shared/:token/files/:fileId answers
-- the bytes of an attachment or artifact the frozen copy names, to whoever holds the token (no
-- user). The function reads the object with the service role, so what it may reach is decided
-- here, and only here:
--   * the share must be readable now (private.read_share: not revoked, conversation not deleted,
--     owner allowed), so revoking the link ends its downloads at once;
--   * the share was made with include_attachments and its frozen copy has a part with that id;
--   * the object is the share owner's own row of that conversation (chat_attachments, whose path
--     is checked to be in the owner's folder, with the frozen sha256; or artifacts).
-- The frozen copy keeps the parts' storage paths; the API answer never shows them (shares.ts).
create function private.shared_file(p_token_hash text, p_file_id uuid)
returns table (bucket text, object_path text, media_type text, filename text, sha256 text)
language sql stable security definer set search_path = '' as $$
  with frozen as (
    select s.user_id, s.conversation_id, p.part
    from private.read_share(p_token_hash) r
    join public.conversation_shares s on s.token_hash = p_token_hash and s.include_attachments
    cross join lateral jsonb_array_elements(r.messages) m(message)
    cross join lateral jsonb_array_elements(m.message -> 'parts') p(part)
    where p.part ->> 'id' = p_file_id::text and p.part ->> 'type' in ('attachment', 'artifact')
  )
  select 'chat-attachments', a.storage_path, a.media_type, a.filename, a.sha256
  from frozen f
  join public.chat_attachments a
    on a.id = p_file_id and a.user_id = f.user_id and a.conversation_id = f.conversation_id
   and a.sha256 = f.part ->> 'sha256'
  where f.part ->> 'type' = 'attachment'
  union all
  select 'chat-artifacts', t.object_path, t.mime, t.path, t.sha256
  from frozen f
  join public.artifacts t
    on t.id = p_file_id and t.user_id = f.user_id and t.conversation_id = f.conversation_id
  where f.part ->> 'type' = 'artifact'
  limit 1
$$;
revoke execute on function private.shared_file(text, uuid) from public, anon, authenticated;
