-- Feedback on assistant replies: a thumbs up or down and an optional comment, one per user per
-- message (changing it updates the row). Written by POST /conversations/:id/messages/:id/feedback
-- as the user; admins read every row for the report by model and period (GET
-- /usage/admin/feedback). `model` is copied from the message by a trigger: admins may read feedback
-- but not other users' messages, so the report cannot join them.
create table public.message_feedback (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  message_id uuid not null references public.messages (id) on delete cascade,
  rating text not null check (rating in ('up', 'down')),
  comment text check (char_length(comment) <= 2000),
  -- The model that wrote the reply (set from the message on insert, whatever the caller sends).
  model text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, message_id)
);
-- user_id leads the unique index (the policies' column); message_id cascades from messages;
-- the report scans by time.
create index message_feedback_message on public.message_feedback (message_id);
create index message_feedback_updated on public.message_feedback (updated_at);

alter table public.message_feedback enable row level security;
create policy "message_feedback: owner reads, admins read all" on public.message_feedback
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
-- Only on the user's own assistant replies (not their own messages, not anyone else's).
create policy "message_feedback: owner rates own replies" on public.message_feedback
  for insert to authenticated with check (
    user_id = (select auth.uid())
    and exists (select 1 from public.messages m
                where m.id = message_id and m.user_id = (select auth.uid()) and m.role = 'assistant')
  );
create policy "message_feedback: owner changes" on public.message_feedback
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "message_feedback: owner removes" on public.message_feedback
  for delete to authenticated using (user_id = (select auth.uid()));
select private.restrict_to_allowed_accounts('public.message_feedback');
revoke insert, update on public.message_feedback from anon, authenticated;
grant insert (message_id, rating, comment) on public.message_feedback to authenticated;
grant update (rating, comment) on public.message_feedback to authenticated;
revoke delete on public.message_feedback from anon;

create trigger message_feedback_touch before update on public.message_feedback
  for each row execute function private.touch_updated_at();

create function private.message_feedback_model() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  new.model := (select m.model from public.messages m where m.id = new.message_id);
  return new;
end
$$;
revoke execute on function private.message_feedback_model() from public, anon, authenticated;
create trigger message_feedback_model before insert on public.message_feedback
  for each row execute function private.message_feedback_model();
