-- Reminder channels: the user's verified phone and WhatsApp consent, phone verification through
-- Twilio Verify, and browsers' Web Push subscriptions. The escalation chain that uses them is in
-- the next migration. Users read their own rows; every write goes through the functions
-- (`account`, `push`), which validate first, and the definer functions below.

insert into public.app_settings (key, value, description) values
  ('reminders.verify_sends_per_hour', '5',
   'verification codes (SMS through Twilio Verify, which costs money) a user may request per hour'),
  ('reminders.verify_resend_seconds', '30', 'shortest wait between two codes for one user'),
  ('reminders.verify_code_minutes', '10', 'how long a verification code stays valid (Verify''s default)'),
  ('reminders.verify_max_checks', '5', 'wrong codes accepted before the user must ask for a new one'),
  ('reminders.max_push_subscriptions', '10',
   'browsers per user; registering one more removes the one used least recently')
on conflict (key) do nothing;

-- Reads an app_settings value holding a JSON number.
create or replace function private.int_setting(p_key text, p_default int) returns int
language sql stable security definer set search_path = '' as $$
  select coalesce((select (value #>> '{}')::int from public.app_settings where key = p_key), p_default)
$$;
revoke execute on function private.int_setting(text, int) from public, anon, authenticated;

-- The phone (E.164) on profiles is only ever set by a successful verification, so phone_verified
-- says it is the user's. WhatsApp consent needs a verified phone and ends when the phone changes.
-- whatsapp_last_inbound_at: the user's last WhatsApp message, which opens the 24-hour window in
-- which free-form text may be sent (outside it, only an approved template).
alter table public.profiles
  add column whatsapp_opted_in_at timestamptz,
  add column whatsapp_last_inbound_at timestamptz,
  add constraint profiles_phone_e164 check (phone is null or phone ~ '^\+[1-9][0-9]{6,14}$'),
  add constraint profiles_whatsapp_needs_verified_phone
    check (whatsapp_opted_in_at is null or phone_verified);
-- One account per verified number: inbound WhatsApp replies and calls are matched by it.
create unique index profiles_verified_phone on public.profiles (phone) where phone_verified;

-- Phone verification in progress: one per user, the number being verified and our own limits
-- on top of Verify's (codes cost money; wrong guesses are bounded). The code itself is Twilio's
-- and never stored here.
create table public.phone_verifications (
  user_id uuid primary key references auth.users (id) on delete cascade,
  phone text not null check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  status text not null default 'pending' check (status in ('pending', 'approved', 'expired')),
  -- codes sent in the hour that started at window_started_at
  sends int not null default 0,
  window_started_at timestamptz not null default now(),
  last_sent_at timestamptz,
  expires_at timestamptz not null,
  wrong_checks int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.phone_verifications enable row level security;
create policy "phone_verifications: owner reads" on public.phone_verifications
  for select to authenticated using (user_id = (select auth.uid()));
select private.restrict_to_allowed_accounts('public.phone_verifications');
revoke insert, update, delete on public.phone_verifications from anon, authenticated;
create trigger phone_verifications_touch before update on public.phone_verifications
  for each row execute function private.touch_updated_at();

-- Reserves one code send for the caller to p_phone, under the hourly limit and the resend wait.
-- Returns the seconds to wait (0: go ahead). Run as the user; the row is locked, so concurrent
-- requests are counted one by one.
create function private.reserve_verification_send(p_phone text) returns int
language plpgsql security definer set search_path = '' as $$
declare
  me uuid := (select auth.uid());
  v public.phone_verifications;
  per_hour int := private.int_setting('reminders.verify_sends_per_hour', 5);
  resend int := private.int_setting('reminders.verify_resend_seconds', 30);
  code_minutes int := private.int_setting('reminders.verify_code_minutes', 10);
begin
  if me is null then
    raise exception 'not signed in' using errcode = '42501';
  end if;
  insert into public.phone_verifications as pv (user_id, phone, expires_at)
  values (me, p_phone, now())
  on conflict (user_id) do update set user_id = excluded.user_id
  returning * into v;
  if v.window_started_at < now() - interval '1 hour' then
    v.sends := 0;
    v.window_started_at := now();
  end if;
  if v.last_sent_at > now() - make_interval(secs => resend) then
    return greatest(1, ceil(extract(epoch from v.last_sent_at + make_interval(secs => resend) - now())))::int;
  end if;
  if v.sends >= per_hour then
    return greatest(1, ceil(extract(epoch from v.window_started_at + interval '1 hour' - now())))::int;
  end if;
  update public.phone_verifications set
    phone = p_phone, status = 'pending', sends = v.sends + 1,
    window_started_at = v.window_started_at, last_sent_at = now(),
    expires_at = now() + make_interval(mins => code_minutes),
    -- a new number starts over; a resend to the same number keeps Verify's count of guesses
    wrong_checks = case when phone = p_phone and status = 'pending' then wrong_checks else 0 end
  where user_id = me;
  return 0;
end $$;
revoke execute on function private.reserve_verification_send(text) from public, anon;
grant execute on function private.reserve_verification_send(text) to authenticated;

-- Gives back a reserved send that Twilio refused (nothing was sent).
create function private.release_verification_send() returns void
language sql security definer set search_path = '' as $$
  update public.phone_verifications set sends = greatest(sends - 1, 0), last_sent_at = null
  where user_id = (select auth.uid())
$$;
revoke execute on function private.release_verification_send() from public, anon;
grant execute on function private.release_verification_send() to authenticated;

-- Records the outcome of a code check for the caller: 'approved' makes the number the
-- profile's verified phone (WhatsApp consent ends if the number changed), 'wrong' counts a
-- wrong guess, 'expired' ends the verification. Returns the verification row after the change.
-- A number already verified by another account raises unique_violation (23505).
create function private.record_verification_check(p_outcome text)
returns public.phone_verifications
language plpgsql security definer set search_path = '' as $$
declare
  me uuid := (select auth.uid());
  v public.phone_verifications;
begin
  select * into v from public.phone_verifications where user_id = me for update;
  if v.user_id is null then
    return null;
  end if;
  if p_outcome = 'approved' then
    update public.profiles set
      whatsapp_opted_in_at = case when phone = v.phone then whatsapp_opted_in_at end,
      phone = v.phone, phone_verified = true
    where id = me;
    update public.phone_verifications set status = 'approved' where user_id = me returning * into v;
  elsif p_outcome = 'wrong' then
    update public.phone_verifications set wrong_checks = wrong_checks + 1 where user_id = me
    returning * into v;
  elsif p_outcome = 'expired' then
    update public.phone_verifications set status = 'expired' where user_id = me returning * into v;
  else
    raise exception 'unknown outcome %', p_outcome;
  end if;
  return v;
end $$;
revoke execute on function private.record_verification_check(text) from public, anon;
grant execute on function private.record_verification_check(text) to authenticated;

-- WhatsApp consent for the caller: true to opt in (needs a verified phone), false to opt out.
-- Returns the profile's whatsapp_opted_in_at (null when out); raises 'P0001' phone_not_verified.
create function private.set_whatsapp_opt_in(p_opt_in boolean) returns timestamptz
language plpgsql security definer set search_path = '' as $$
declare
  p public.profiles;
begin
  select * into p from public.profiles where id = (select auth.uid()) for update;
  if p.id is null then
    raise exception 'no profile' using errcode = 'P0002';
  end if;
  if p_opt_in and not p.phone_verified then
    raise exception 'phone_not_verified' using errcode = 'P0001';
  end if;
  update public.profiles set whatsapp_opted_in_at =
    case when p_opt_in then coalesce(whatsapp_opted_in_at, now()) end
  where id = p.id returning * into p;
  return p.whatsapp_opted_in_at;
end $$;
revoke execute on function private.set_whatsapp_opt_in(boolean) from public, anon;
grant execute on function private.set_whatsapp_opt_in(boolean) to authenticated;

-- Web Push subscriptions: one per browser (its endpoint), with the keys the payload is encrypted
-- for. An endpoint belongs to one browser profile: registering it again (the same user, or
-- another user signing in on that browser) moves it. The function `push` checks the endpoint is
-- a push service's before saving it (so the reminder tick never posts anywhere else).
create table public.push_subscriptions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  endpoint text not null unique check (endpoint ~ '^https?://' and char_length(endpoint) <= 2048),
  -- the browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url
  p256dh text not null check (p256dh ~ '^[A-Za-z0-9_-]{87}=?$'),
  auth text not null check (auth ~ '^[A-Za-z0-9_-]{22}(==)?$'),
  user_agent text check (char_length(user_agent) <= 512),
  created_at timestamptz not null default now(),
  last_used_at timestamptz not null default now()
);
create index push_subscriptions_user on public.push_subscriptions (user_id, last_used_at);
alter table public.push_subscriptions enable row level security;
create policy "push_subscriptions: owner reads" on public.push_subscriptions
  for select to authenticated using (user_id = (select auth.uid()));
create policy "push_subscriptions: owner deletes" on public.push_subscriptions
  for delete to authenticated using (user_id = (select auth.uid()));
select private.restrict_to_allowed_accounts('public.push_subscriptions');
revoke insert, update on public.push_subscriptions from anon, authenticated;
revoke delete on public.push_subscriptions from anon;

-- Saves the caller's subscription (moving it from whoever had the endpoint before) and keeps at
-- most reminders.max_push_subscriptions per user. Returns the row.
create function private.save_push_subscription(
  p_endpoint text, p_p256dh text, p_auth text, p_user_agent text)
returns public.push_subscriptions
language plpgsql security definer set search_path = '' as $$
declare
  me uuid := (select auth.uid());
  s public.push_subscriptions;
begin
  if me is null then
    raise exception 'not signed in' using errcode = '42501';
  end if;
  insert into public.push_subscriptions as ps (user_id, endpoint, p256dh, auth, user_agent)
  values (me, p_endpoint, p_p256dh, p_auth, p_user_agent)
  on conflict (endpoint) do update set
    user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
    user_agent = excluded.user_agent, last_used_at = now()
  returning * into s;
  delete from public.push_subscriptions where id in (
    select id from public.push_subscriptions where user_id = me
    order by last_used_at desc, created_at desc
    offset private.int_setting('reminders.max_push_subscriptions', 10));
  return s;
end $$;
revoke execute on function private.save_push_subscription(text, text, text, text) from public, anon;
grant execute on function private.save_push_subscription(text, text, text, text) to authenticated;
