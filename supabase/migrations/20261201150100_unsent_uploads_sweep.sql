-- Uploads never sent: a file uploaded with POST /conversations/:id/attachments that no message
-- names once `chat.attachments.unsent_after` (24 hours) has passed is removed, its Storage
-- object first, then its row. SQL cannot remove Storage objects on a hosted project, so the
-- recovery job's step `unsent_uploads` only finds them and posts their ids through pg_net to the
-- `chat-jobs` function (POST /chat-jobs/unsent-uploads, Vault secret aide_webhook_secret), which
-- removes the objects and then the rows. A post that is lost, or a removal that fails, is simply
-- found again by the next run (the step runs every minute with the recovery job).
insert into public.app_settings (key, value, description) values
  ('chat.attachments.unsent_after', '"24 hours"',
   'an uploaded chat attachment no message names is removed after this long')
on conflict (key) do nothing;

-- The sweep walks uploads oldest first. sweep_posted_at: when the step last posted the row, so
-- the step does not post it again while the function works on it (after 10 minutes it does:
-- that post was lost or failed). Users cannot write it (their insert grant names its columns).
create index chat_attachments_created on public.chat_attachments (created_at);
alter table public.chat_attachments add column sweep_posted_at timestamptz;

-- The one rule for "stale and never sent", read by the step and by the function (which checks
-- the ids it was given again, so a file sent since the post is kept). p_ids null: the step's
-- look-up, which also leaves out rows posted in the last 10 minutes.
create function private.unsent_uploads(p_ids uuid[], p_limit int)
returns table (id uuid, storage_path text)
language sql stable security definer set search_path = '' as $$
  select a.id, a.storage_path
  from public.chat_attachments a
  where a.created_at < now() - coalesce(private.interval_setting('chat.attachments.unsent_after'),
                                        interval '24 hours')
    and (a.id = any (p_ids)
         or p_ids is null and (a.sweep_posted_at is null
                               or a.sweep_posted_at < now() - interval '10 minutes'))
    and not exists (
      select 1 from public.messages m
      where m.conversation_id = a.conversation_id
        and m.parts @> jsonb_build_array(jsonb_build_object('type', 'attachment', 'id', a.id)))
  order by a.created_at
  limit p_limit
$$;
revoke execute on function private.unsent_uploads(uuid[], int) from public, anon, authenticated;

create function private.recover_unsent_uploads(p_batch_size int) returns int
language plpgsql security definer set search_path = '' as $$
declare
  found uuid[];
begin
  select array_agg(u.id) into found from private.unsent_uploads(null, p_batch_size) u;
  if found is null then return 0; end if;
  if not private.post_to_function('/chat-jobs/unsent-uploads', jsonb_build_object('ids', found)) then
    return 0;
  end if;
  update public.chat_attachments set sweep_posted_at = now() where id = any (found);
  return cardinality(found);
end $$;
revoke execute on function private.recover_unsent_uploads(int) from public, anon, authenticated;

insert into private.recovery_steps (name, handler) values
  ('unsent_uploads', 'private.recover_unsent_uploads')
on conflict (name) do nothing;
