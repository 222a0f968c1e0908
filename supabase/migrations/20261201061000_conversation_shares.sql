-- Share links: a read-only copy of a conversation's active branch, frozen when the link is made
-- (POST /conversations/:id/share) and readable without signing in by whoever has the token
-- (GET /shared/:token). Only the token's sha256 is stored; the token itself is shown once.
-- Deleting the share (or the conversation, or the account) ends the link.
--
-- The copy is taken by a trigger from the stored messages, not from the caller, so a share
-- shows what the conversation really said; without include_attachments it leaves out the
-- parts that reveal the user's documents (mentions and citations, whose snippets quote them).
create table public.conversation_shares (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  include_attachments boolean not null default false,
  title text,
  -- [{id, role, parts, content, model, created_at}], oldest first; set by the trigger below.
  messages jsonb not null default '[]'::jsonb,
  created_at timestamptz not null default now()
);
create index conversation_shares_user on public.conversation_shares (user_id);
create index conversation_shares_conversation on public.conversation_shares (conversation_id);

alter table public.conversation_shares enable row level security;
create policy "conversation_shares: owner reads" on public.conversation_shares
  for select to authenticated using (user_id = (select auth.uid()));
create policy "conversation_shares: owner shares own conversations" on public.conversation_shares
  for insert to authenticated with check (
    user_id = (select auth.uid())
    and exists (select 1 from public.conversations c
                where c.id = conversation_id and c.user_id = (select auth.uid())
                  and c.deleted_at is null)
  );
create policy "conversation_shares: owner revokes" on public.conversation_shares
  for delete to authenticated using (user_id = (select auth.uid()));
select private.restrict_to_allowed_accounts('public.conversation_shares');
revoke insert, update, delete on public.conversation_shares from anon, authenticated;
grant insert (conversation_id, token_hash, include_attachments)
  on public.conversation_shares to authenticated;
grant delete on public.conversation_shares to authenticated;

-- The active branch as it is now, oldest first; definer because it runs for whoever inserts
-- (the insert policy has already checked the conversation is theirs).
create function private.freeze_share() returns trigger
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
                        or p.part ->> 'type' not in ('file', 'citation')))
         order by b.depth desc), '[]'::jsonb)
  into new.messages
  from branch b;
  return new;
end
$$;
revoke execute on function private.freeze_share() from public, anon, authenticated;
create trigger conversation_shares_freeze before insert on public.conversation_shares
  for each row execute function private.freeze_share();

-- GET /shared/:token (no signed-in user): the share for a token's hash, while its conversation
-- exists and its owner may still use Aide.
create function private.read_share(p_token_hash text)
returns table (title text, messages jsonb, created_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select s.title, s.messages, s.created_at
  from public.conversation_shares s
  join public.conversations c on c.id = s.conversation_id
  where s.token_hash = p_token_hash and c.deleted_at is null
    and private.account_access(s.user_id) = 'allowed'
$$;
revoke execute on function private.read_share(text) from public, anon, authenticated;
