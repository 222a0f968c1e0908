-- Files of conversations that retention purges. DELETE /conversations/:id removes a conversation's
-- files at once, but a conversation hidden another way (deleted_at set through PostgREST) reaches
-- retention (retention.deleted_conversations) with its files still in Storage, and purging its
-- rows would cascade to chat_attachments and artifacts and leave the objects behind with nothing
-- pointing at them (SQL cannot remove Storage objects on a hosted project). So the purge waits for
-- the files, which the recovery job's sweeps remove through the chat-jobs function, file first:
-- - artifacts (their rows cascade with their message): the new step `deleted_artifacts` finds
--   those of conversations past the retention window; the messages' purge waits for them;
-- - attachments: once the messages are purged no message names them, so the unsent-uploads sweep
--   (20261201150100) takes them; the conversation's own purge waits for them.
-- Cost on a deployed project: one nullable column, one small function pair, two rule texts.

-- The sweep posts ids at most every 10 minutes (as for chat_attachments).
alter table public.artifacts add column sweep_posted_at timestamptz;

-- The one rule for "an artifact whose conversation retention is about to purge", read by the
-- step and by the function (which checks the ids it was given again). p_ids null: the step's
-- look-up, which also leaves out rows posted in the last 10 minutes.
create function private.purgeable_artifacts(p_ids uuid[], p_limit int)
returns table (id uuid, object_path text)
language sql stable security definer set search_path = '' as $$
  select a.id, a.object_path
  from public.artifacts a
  join public.conversations c on c.id = a.conversation_id
  where c.deleted_at < now() - private.interval_setting('retention.deleted_conversations')
    and (a.id = any (p_ids)
         or p_ids is null and (a.sweep_posted_at is null
                               or a.sweep_posted_at < now() - interval '10 minutes'))
  order by c.deleted_at, a.id
  limit p_limit
$$;
revoke execute on function private.purgeable_artifacts(uuid[], int) from public, anon, authenticated;

create function private.recover_deleted_artifacts(p_batch_size int) returns int
language plpgsql security definer set search_path = '' as $$
declare
  found uuid[];
begin
  select array_agg(p.id) into found from private.purgeable_artifacts(null, p_batch_size) p;
  if found is null then return 0; end if;
  if not private.post_to_function('/chat-jobs/deleted-artifacts', jsonb_build_object('ids', found)) then
    return 0;
  end if;
  update public.artifacts set sweep_posted_at = now() where id = any (found);
  return cardinality(found);
end $$;
revoke execute on function private.recover_deleted_artifacts(int) from public, anon, authenticated;

insert into private.recovery_steps (name, handler) values
  ('deleted_artifacts', 'private.recover_deleted_artifacts')
on conflict (name) do nothing;

-- The purge waits: a conversation's messages while it has artifacts, the conversation itself
-- while it has attachments or artifacts (the rest of each rule as in 20261126020000).
update private.retention_rules set condition = $$conversation_id = (
       select c.id from public.conversations c
       where c.deleted_at < now() - private.interval_setting('retention.deleted_conversations')
         and exists (select 1 from public.messages m where m.conversation_id = c.id
           and m.created_at < now() - private.interval_setting('retention.deleted_conversations'))
         and not exists (select 1 from public.artifacts a where a.conversation_id = c.id)
       order by c.deleted_at desc, c.id desc limit 1)$$
where name = 'deleted_conversation_messages';

update private.retention_rules set condition = $$deleted_at is not null
     and not exists (select 1 from public.messages m where m.conversation_id = conversations.id)
     and not exists (select 1 from public.usage_ledger l where l.conversation_id = conversations.id)
     and not exists (select 1 from public.chat_attachments a where a.conversation_id = conversations.id)
     and not exists (select 1 from public.artifacts a where a.conversation_id = conversations.id)$$
where name = 'deleted_conversations';
