-- Chat spending that cannot slip past the ledger or the budget:
--   - replies in flight per user are capped (chat.max_streams_per_user), so many parallel
--     requests cannot overshoot the hard budget between its check and the bill;
--   - every provider call has a ledger row from the moment it starts (status 'pending', with its
--     estimated input tokens), completed when the provider's usage arrives. A call whose function
--     is killed mid-stream is closed by the recovery step provider_calls with output tokens
--     estimated from the text saved so far, marked estimated, so usage and budgets still count
--     what the provider billed.

insert into public.app_settings (key, value, description) values
  ('chat.max_streams_per_user', '3',
   'replies being generated at once per user; one more is answered 429 too_many_streams')
on conflict (key) do nothing;

-- Replies in flight ------------------------------------------------------------------------
create index if not exists messages_in_flight on public.messages (user_id)
  where status in ('pending', 'streaming');

-- Creates the assistant message that answers `p_parent` in the caller's own conversation, if
-- the caller has fewer than chat.max_streams_per_user replies in flight (profiles.quotas ->
-- streams overrides it per user; a reply silent for longer than platform.wall_clock_limit is
-- dead, not in flight: recovery will end it).
create or replace function private.open_assistant_message(p_conversation uuid, p_parent uuid, p_model text)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  new_id uuid;
  max_streams int := coalesce(
    (select (p.quotas ->> 'streams')::int from public.profiles p where p.id = auth.uid()),
    (select (value #>> '{}')::int from public.app_settings where key = 'chat.max_streams_per_user'), 3);
  in_flight int;
begin
  if not exists (select 1 from public.conversations
                 where id = p_conversation and user_id = auth.uid() and deleted_at is null) then
    raise exception 'conversation not found' using errcode = 'P0002';
  end if;
  -- One opener per user at a time, so two requests at once cannot both take the last slot.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('streams:' || auth.uid(), 0));
  select count(*) into in_flight from public.messages
  where user_id = auth.uid() and role = 'assistant' and status in ('pending', 'streaming')
    and updated_at > now() - coalesce(private.interval_setting('platform.wall_clock_limit'),
                                      interval '400 seconds');
  if in_flight >= max_streams then
    raise exception 'You have % replies being generated; wait for one to finish', in_flight
      using errcode = 'PT429', hint = 'too_many_streams',
            detail = pg_catalog.jsonb_build_object('max_streams', max_streams,
                                                   'retry_after_seconds', 1)::text;
  end if;
  insert into public.messages (conversation_id, user_id, parent_id, role, status, model)
  values (p_conversation, auth.uid(), p_parent, 'assistant', 'pending', p_model)
  returning id into new_id;
  update public.conversations set active_leaf_id = new_id, last_message_at = now()
  where id = p_conversation;
  return new_id;
end $$;

-- The ledger: a row per provider call from its start ---------------------------------------
alter table public.usage_ledger drop constraint if exists usage_ledger_status_check;
alter table public.usage_ledger add constraint usage_ledger_status_check
  check (status in ('pending', 'ok', 'error', 'aborted'));
-- True when the tokens are our estimate, not the provider's count (a call cut off before the
-- provider reported usage).
alter table public.usage_ledger add column if not exists estimated boolean not null default false;
create index if not exists usage_ledger_pending on public.usage_ledger (created_at)
  where status = 'pending';

-- The cost of `p`'s tokens at the model's price in effect now.
create or replace function private.usage_cost(p_model text, p_input int, p_output int,
                                               p_reasoning int, p_cached_read int, p_cache_write int)
returns table (cost_micro_usd bigint, price_id bigint)
language sql stable security definer set search_path = '' as $$
  select coalesce(round(p_input * pr.input_per_mtok
                        + (p_output - p_reasoning) * pr.output_per_mtok
                        + p_reasoning * coalesce(pr.reasoning_per_mtok, pr.output_per_mtok)
                        + p_cached_read * pr.cached_read_per_mtok
                        + p_cache_write * pr.cache_write_per_mtok), 0)::bigint,
         pr.id
  from (select 1) one
  left join lateral (select * from public.model_prices
                     where model_alias = p_model and effective_from <= now()
                     order by effective_from desc limit 1) pr on true
$$;
revoke execute on function private.usage_cost(text, int, int, int, int, int) from public, anon, authenticated;

-- Daily totals and conversation totals follow every ledger row as it is written and completed
-- (the difference between its old and new values), so they always equal the sum of the rows.
create or replace function private.roll_up_usage() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  was public.usage_ledger;
begin
  if tg_op = 'UPDATE' then
    was := old;
  else
    was := null;
  end if;
  insert into public.usage_daily as d (user_id, day, model, product, product_step, calls,
    input_tokens, output_tokens, cached_read_tokens, cache_write_tokens, reasoning_tokens, cost_micro_usd)
  values (new.user_id, (new.created_at at time zone 'UTC')::date, new.model, new.product,
    new.product_step, case when tg_op = 'INSERT' then 1 else 0 end,
    new.input_tokens - coalesce(was.input_tokens, 0), new.output_tokens - coalesce(was.output_tokens, 0),
    new.cached_read_tokens - coalesce(was.cached_read_tokens, 0),
    new.cache_write_tokens - coalesce(was.cache_write_tokens, 0),
    new.reasoning_tokens - coalesce(was.reasoning_tokens, 0),
    new.cost_micro_usd - coalesce(was.cost_micro_usd, 0))
  on conflict (user_id, day, model, product, product_step) do update set
    calls = d.calls + excluded.calls,
    input_tokens = d.input_tokens + excluded.input_tokens,
    output_tokens = d.output_tokens + excluded.output_tokens,
    cached_read_tokens = d.cached_read_tokens + excluded.cached_read_tokens,
    cache_write_tokens = d.cache_write_tokens + excluded.cache_write_tokens,
    reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
    cost_micro_usd = d.cost_micro_usd + excluded.cost_micro_usd;
  if new.conversation_id is not null then
    update public.conversations set
      input_tokens = input_tokens + new.input_tokens - coalesce(was.input_tokens, 0),
      output_tokens = output_tokens + new.output_tokens - coalesce(was.output_tokens, 0),
      cached_read_tokens = cached_read_tokens + new.cached_read_tokens - coalesce(was.cached_read_tokens, 0),
      cache_write_tokens = cache_write_tokens + new.cache_write_tokens - coalesce(was.cache_write_tokens, 0),
      reasoning_tokens = reasoning_tokens + new.reasoning_tokens - coalesce(was.reasoning_tokens, 0),
      cost_micro_usd = cost_micro_usd + new.cost_micro_usd - coalesce(was.cost_micro_usd, 0)
    where id = new.conversation_id;
  end if;
  return null;
end $$;
revoke execute on function private.roll_up_usage() from public, anon, authenticated;

drop trigger if exists usage_ledger_roll_up on public.usage_ledger;
create trigger usage_ledger_roll_up after insert or update of status, input_tokens, output_tokens,
  cached_read_tokens, cache_write_tokens, reasoning_tokens, cost_micro_usd on public.usage_ledger
  for each row execute function private.roll_up_usage();

-- Records one provider call, once per call_id: a new row, or the completion of the row its
-- start wrote (status 'pending'), with the completion's tokens (the caller decides what to bill
-- for a call cut short: see meter() in _shared/chat/ledger.ts). A row already final stays as it
-- is (idempotent).
-- p: {call_id, request_id, user_id, conversation_id, message_id, product, product_step,
--     provider, model, provider_model, attempt, status, input_tokens, output_tokens,
--     cached_read_tokens, cache_write_tokens, reasoning_tokens, latency_ms, ttft_ms, error_type,
--     error_message, estimated}; status 'pending' starts a call.
create or replace function private.record_usage(p jsonb) returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  input int := coalesce((p ->> 'input_tokens')::int, 0);
  output int := coalesce((p ->> 'output_tokens')::int, 0);
  reasoning int := coalesce((p ->> 'reasoning_tokens')::int, 0);
  cached_read int := coalesce((p ->> 'cached_read_tokens')::int, 0);
  cache_write int := coalesce((p ->> 'cache_write_tokens')::int, 0);
  cost record;
  written bigint;
begin
  select * into cost from private.usage_cost(p ->> 'model', input, output, reasoning, cached_read, cache_write);
  insert into public.usage_ledger as l (
    call_id, request_id, user_id, conversation_id, message_id, product, product_step, provider,
    model, provider_model, attempt, status, input_tokens, output_tokens, cached_read_tokens,
    cache_write_tokens, reasoning_tokens, cost_micro_usd, price_id, latency_ms, ttft_ms,
    error_type, error_message, estimated)
  values (
    (p ->> 'call_id')::uuid, p ->> 'request_id', (p ->> 'user_id')::uuid,
    (p ->> 'conversation_id')::uuid, (p ->> 'message_id')::uuid,
    coalesce(p ->> 'product', 'chat'), p ->> 'product_step', p ->> 'provider', p ->> 'model',
    p ->> 'provider_model', coalesce((p ->> 'attempt')::int, 1), p ->> 'status',
    input, output, cached_read, cache_write, reasoning, cost.cost_micro_usd, cost.price_id,
    (p ->> 'latency_ms')::int, (p ->> 'ttft_ms')::int, p ->> 'error_type',
    left(p ->> 'error_message', 1000), coalesce((p ->> 'estimated')::boolean, false))
  on conflict (call_id) do update set
    status = excluded.status,
    input_tokens = excluded.input_tokens,
    output_tokens = excluded.output_tokens,
    cached_read_tokens = excluded.cached_read_tokens,
    cache_write_tokens = excluded.cache_write_tokens,
    reasoning_tokens = excluded.reasoning_tokens,
    cost_micro_usd = excluded.cost_micro_usd,
    price_id = excluded.price_id,
    latency_ms = excluded.latency_ms,
    ttft_ms = excluded.ttft_ms,
    error_type = excluded.error_type,
    error_message = excluded.error_message,
    estimated = excluded.estimated
  where l.status = 'pending' and excluded.status <> 'pending'
  returning l.id into written;
  return written;
end $$;
revoke execute on function private.record_usage(jsonb) from public, anon, authenticated;

-- Recovery step provider_calls: a call still pending after platform.wall_clock_limit belongs
-- to a function that was killed. It ends as an error of type interrupted, its input tokens as
-- estimated at its start, and its output tokens estimated from the text its message saved
-- (about 4 characters a token, less what the message's completed calls already count).
-- The step sorts before stuck_messages, so the message's totals include it.
create or replace function private.recover_provider_calls(p_batch_size int) returns int
language plpgsql security definer set search_path = '' as $$
declare
  c record;
  recovered int := 0;
begin
  for c in
    select l.id, l.message_id, l.product_step from public.usage_ledger l
    where l.status = 'pending'
      and l.created_at < now() - coalesce(private.interval_setting('platform.wall_clock_limit'),
                                          interval '400 seconds')
    order by l.created_at limit p_batch_size
    for update skip locked
  loop
    update public.usage_ledger l set
      status = 'error', error_type = 'interrupted', estimated = true,
      error_message = 'the function ended before the provider reported usage; tokens are estimated',
      output_tokens = greatest(0, coalesce((
        select ceil(char_length(m.content) / 4.0)::int
               - coalesce((select sum(o.output_tokens) from public.usage_ledger o
                           where o.message_id = m.id and o.id <> l.id and o.status <> 'pending'), 0)
        from public.messages m where m.id = c.message_id and c.product_step = 'chat'), 0))
    where l.id = c.id;
    update public.usage_ledger u set (cost_micro_usd, price_id) = (
      select x.cost_micro_usd, x.price_id from private.usage_cost(u.model, u.input_tokens,
        u.output_tokens, u.reasoning_tokens, u.cached_read_tokens, u.cache_write_tokens) x)
    where u.id = c.id;
    recovered := recovered + 1;
  end loop;
  return recovered;
end $$;
revoke execute on function private.recover_provider_calls(int) from public, anon, authenticated;

insert into private.recovery_steps (name, handler) values
  ('provider_calls', 'private.recover_provider_calls')
on conflict (name) do nothing;
