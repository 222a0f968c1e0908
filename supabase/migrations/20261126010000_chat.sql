-- Conversations and chat: the model registry with effective-dated prices, conversations,
-- messages (typed parts, branching, idempotency, streaming status), the usage ledger, and the
-- privileged functions the chat pipeline calls to write what users may not write themselves.

-- Settings: product configuration readable by signed-in users. Never put secrets here.
create table public.app_settings (
  key text primary key,
  value jsonb not null,
  description text,
  updated_at timestamptz not null default now()
);
alter table public.app_settings enable row level security;
create policy "app_settings: readable by signed-in users" on public.app_settings
  for select to authenticated using (true);
revoke insert, update, delete on public.app_settings from anon, authenticated;

insert into public.app_settings (key, value, description) values
  ('chat.default_model', '"claude-sonnet-4.5"', 'model alias for new conversations'),
  ('chat.utility_model', '"gpt-5-mini"', 'cheap model alias for titles and summaries'),
  ('chat.system_prompt', '"You are a helpful assistant. Answer clearly and concisely."',
   'default system prompt for conversations that do not set their own'),
  ('chat.max_tool_steps', '5', 'model calls per reply when the model uses tools'),
  ('chat.context_budget_ratio', '0.6', 'share of the context window used for history')
on conflict (key) do nothing;

-- Model registry ---------------------------------------------------------------------------
create table public.models (
  alias text primary key,
  provider text not null check (provider in ('anthropic', 'openai', 'openai_compatible')),
  provider_model text not null,
  base_url text,
  -- A model's key comes from the functions' environment: never let a model row name a platform
  -- secret (an admin could otherwise send the service role key to a base_url of their choice).
  api_key_env text constraint models_api_key_env_is_a_provider_key
    check (api_key_env is null or (api_key_env ~ '^[A-Z][A-Z0-9_]*_API_KEY$'
                                   and api_key_env !~ '^SUPABASE_')),
  display_name text not null,
  purpose text not null default 'chat' check (purpose in ('chat', 'utility', 'embedding')),
  context_window int not null check (context_window > 0),
  max_output_tokens int not null check (max_output_tokens > 0),
  capabilities jsonb not null default '{}'::jsonb,
  -- Aliases tried in order when this model fails before its first token.
  fallback text[] not null default '{}',
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.models enable row level security;
-- Admins manage the registry (one permissive policy per action).
create policy "models: enabled ones are readable, admins read all" on public.models
  for select to authenticated using (enabled or (select private.is_admin()));
create policy "models: admins create" on public.models
  for insert to authenticated with check ((select private.is_admin()));
create policy "models: admins update" on public.models
  for update to authenticated
  using ((select private.is_admin())) with check ((select private.is_admin()));
revoke insert, update, delete on public.models from anon, authenticated;
grant insert, update on public.models to authenticated;

-- Prices in USD per million tokens. A price applies from effective_from until the next one, so
-- past usage keeps the price it was charged at. (1 USD per million tokens = 1 micro-USD per token.)
-- Prices are append-only: admins add a row with a later effective_from to change a price.
create table public.model_prices (
  id bigint generated always as identity primary key,
  model_alias text not null references public.models (alias) on update cascade on delete cascade,
  effective_from timestamptz not null,
  input_per_mtok numeric(12, 4) not null check (input_per_mtok >= 0),
  output_per_mtok numeric(12, 4) not null check (output_per_mtok >= 0),
  cached_read_per_mtok numeric(12, 4) not null check (cached_read_per_mtok >= 0),
  cache_write_per_mtok numeric(12, 4) not null check (cache_write_per_mtok >= 0),
  -- Null: reasoning tokens are billed as output tokens (as both providers do today).
  reasoning_per_mtok numeric(12, 4) check (reasoning_per_mtok >= 0),
  unique (model_alias, effective_from)
);
alter table public.model_prices enable row level security;
create policy "model_prices: readable by signed-in users" on public.model_prices
  for select to authenticated using (true);
create policy "model_prices: admins add" on public.model_prices
  for insert to authenticated with check ((select private.is_admin()));
revoke insert, update, delete on public.model_prices from anon, authenticated;
grant insert on public.model_prices to authenticated;

-- The price in effect now, per model: the one definition of "current price" (the ledger prices
-- calls with it; the API shows it). Read as the caller (security_invoker), so model_prices' RLS applies.
create view private.current_model_prices with (security_invoker = true) as
  select distinct on (model_alias) *
  from public.model_prices
  where effective_from <= now()
  order by model_alias, effective_from desc;
grant select on private.current_model_prices to authenticated;

insert into public.models (alias, provider, provider_model, display_name, purpose, context_window,
                           max_output_tokens, capabilities, fallback) values
  ('claude-opus-4-5', 'anthropic', 'claude-opus-4-5-20251101', 'Claude Opus 4.5', 'chat', 200000, 64000,
   '{"tools": true, "reasoning": true, "prompt_caching": true}', '{claude-sonnet-4.5,gpt-5.2}'),
  ('claude-sonnet-4.5', 'anthropic', 'claude-sonnet-4-5-20250929', 'Claude Sonnet 4.5', 'chat', 200000, 64000,
   '{"tools": true, "reasoning": true, "prompt_caching": true}', '{gpt-5.2}'),
  ('gpt-5.2', 'openai', 'gpt-5.2', 'GPT-5.2', 'chat', 400000, 128000,
   '{"tools": true, "reasoning": true}', '{claude-sonnet-4.5}'),
  ('gpt-5-mini', 'openai', 'gpt-5-mini', 'GPT-5 mini', 'utility', 400000, 128000,
   '{"tools": true}', '{claude-haiku-4.5}'),
  ('claude-haiku-4.5', 'anthropic', 'claude-haiku-4-5-20251001', 'Claude Haiku 4.5', 'utility', 200000, 64000,
   '{"tools": true, "prompt_caching": true}', '{}'),
  ('text-embedding-3-small', 'openai', 'text-embedding-3-small', 'OpenAI text-embedding-3-small', 'embedding',
   8191, 1, '{"dimensions": 1536}', '{}')
on conflict (alias) do nothing;

insert into public.model_prices (model_alias, effective_from, input_per_mtok, output_per_mtok,
                                 cached_read_per_mtok, cache_write_per_mtok) values
  ('claude-opus-4-5', '2025-11-01', 5, 25, 0.5, 6.25),
  ('claude-sonnet-4.5', '2025-09-29', 3, 15, 0.3, 3.75),
  ('gpt-5.2', '2025-12-01', 1.75, 14, 0.175, 0),
  ('gpt-5-mini', '2025-08-07', 0.25, 2, 0.025, 0),
  ('claude-haiku-4.5', '2025-10-01', 1, 5, 0.1, 1.25),
  ('text-embedding-3-small', '2024-01-25', 0.02, 0, 0, 0)
on conflict do nothing;

-- Conversations ----------------------------------------------------------------------------
create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  title text check (char_length(title) <= 300),
  title_generated boolean not null default false,
  model text not null check (char_length(model) <= 100),
  system_prompt text check (char_length(system_prompt) <= 20000),
  pinned boolean not null default false,
  pinned_at timestamptz,
  archived_at timestamptz,
  deleted_at timestamptz,
  last_message_at timestamptz,
  -- The leaf of the branch the user is on; null until the first message.
  active_leaf_id uuid,
  -- Summary of the turns that no longer fit the model's context (see the chat pipeline).
  summary text,
  summary_through_id uuid,
  -- Running totals: the sum of this conversation's usage_ledger rows.
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cached_read_tokens bigint not null default 0,
  cache_write_tokens bigint not null default 0,
  reasoning_tokens bigint not null default 0,
  cost_micro_usd bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- user_id is the column of every policy and the cascade's key; the partial index below does not
-- serve reads that include soft-deleted rows.
create index conversations_user on public.conversations (user_id);
create index conversations_user_recent on public.conversations
  (user_id, (coalesce(last_message_at, created_at)) desc, id desc) where deleted_at is null;
create index conversations_title_trgm on public.conversations
  using gin (title extensions.gin_trgm_ops);
create index conversations_deleted on public.conversations (deleted_at) where deleted_at is not null;

alter table public.conversations enable row level security;
create policy "conversations: owner reads" on public.conversations
  for select to authenticated using (user_id = (select auth.uid()));
create policy "conversations: owner creates" on public.conversations
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "conversations: owner updates" on public.conversations
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
-- No delete policy: users soft-delete; retention purges.
revoke insert, update, delete on public.conversations from anon, authenticated;
grant insert (id, user_id, title, model, system_prompt, pinned, pinned_at, archived_at)
  on public.conversations to authenticated;
grant update (title, title_generated, model, system_prompt, pinned, pinned_at, archived_at,
              deleted_at, active_leaf_id, last_message_at)
  on public.conversations to authenticated;

create trigger conversations_touch before update on public.conversations
  for each row execute function private.touch_updated_at();

-- Messages ---------------------------------------------------------------------------------
create table public.messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  parent_id uuid references public.messages (id) on delete cascade,
  role text not null check (role in ('user', 'assistant')),
  status text not null default 'complete'
    check (status in ('pending', 'streaming', 'complete', 'error', 'aborted')),
  -- Typed parts: text, reasoning, tool_call, tool_result (with duration_ms), file, citation, error.
  parts jsonb not null default '[]'::jsonb check (jsonb_typeof(parts) = 'array'),
  -- The text parts joined, for search and for providers.
  content text not null default '' check (char_length(content) <= 400000),
  client_message_id text check (char_length(client_message_id) <= 200),
  model text,
  provider text,
  provider_model text,
  finish_reason text,
  input_tokens int not null default 0,
  output_tokens int not null default 0,
  cached_read_tokens int not null default 0,
  cache_write_tokens int not null default 0,
  reasoning_tokens int not null default 0,
  cost_micro_usd bigint not null default 0,
  latency_ms int,
  ttft_ms int,
  error_type text,
  error_details jsonb,
  stop_requested_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  search tsvector generated always as (to_tsvector('english', left(content, 100000))) stored,
  unique (conversation_id, client_message_id)
);
create index messages_conversation_created on public.messages (conversation_id, created_at, id);
create index messages_parent on public.messages (parent_id);
create index messages_user on public.messages (user_id);
create index messages_search on public.messages using gin (search);
create index messages_streaming on public.messages (updated_at) where status in ('pending', 'streaming');

alter table public.conversations add constraint conversations_active_leaf_fk
  foreign key (active_leaf_id) references public.messages (id) on delete set null
  deferrable initially deferred;
alter table public.conversations add constraint conversations_summary_through_fk
  foreign key (summary_through_id) references public.messages (id) on delete set null;
create index conversations_active_leaf on public.conversations (active_leaf_id);
create index conversations_summary_through on public.conversations (summary_through_id);

alter table public.messages enable row level security;
create policy "messages: owner reads" on public.messages
  for select to authenticated using (user_id = (select auth.uid()));
-- Users write their own user messages, in their own conversations; assistant messages are
-- written by the chat pipeline through the private functions below.
create policy "messages: owner writes user messages" on public.messages
  for insert to authenticated with check (
    user_id = (select auth.uid())
    and role = 'user'
    and exists (select 1 from public.conversations c
                where c.id = conversation_id and c.user_id = (select auth.uid()))
  );
create policy "messages: owner asks to stop" on public.messages
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
revoke insert, update, delete on public.messages from anon, authenticated;
grant insert (id, conversation_id, user_id, parent_id, role, parts, content, client_message_id)
  on public.messages to authenticated;
grant update (stop_requested_at) on public.messages to authenticated;

create trigger messages_touch before update on public.messages
  for each row execute function private.touch_updated_at();

-- Tool usage for analytics: one row per tool result part.
create view public.tool_usage with (security_invoker = true) as
  select m.conversation_id, m.id as message_id, m.user_id, m.created_at,
         p ->> 'name' as tool_name,
         (p ->> 'duration_ms')::int as duration_ms,
         coalesce((p ->> 'is_error')::boolean, false) as is_error
  from public.messages m, jsonb_array_elements(m.parts) p
  where p ->> 'type' = 'tool_result';
-- Read-only. Without the privileges (and with INSTEAD OF triggers that refuse anyone who still
-- holds one, e.g. service_role), a write is refused at the privilege check (401/403 through
-- PostgREST) instead of failing in the rewriter with a 500.
revoke insert, update, delete, truncate on public.tool_usage from anon, authenticated;
create trigger tool_usage_read_only instead of insert or update or delete on public.tool_usage
  for each row execute function private.refuse_write();

-- Usage ledger: one row per provider call, idempotent by call_id -----------------------------
create table public.usage_ledger (
  id bigint generated always as identity primary key,
  call_id uuid not null unique,
  request_id text,
  user_id uuid not null references auth.users (id) on delete cascade,
  conversation_id uuid references public.conversations (id) on delete set null,
  message_id uuid references public.messages (id) on delete set null,
  product text not null default 'chat',
  product_step text not null,
  provider text not null,
  model text not null,
  provider_model text not null,
  attempt int not null default 1,
  status text not null check (status in ('ok', 'error', 'aborted')),
  input_tokens int not null default 0,
  output_tokens int not null default 0,
  cached_read_tokens int not null default 0,
  cache_write_tokens int not null default 0,
  reasoning_tokens int not null default 0,
  cost_micro_usd bigint not null default 0,
  price_id bigint references public.model_prices (id),
  latency_ms int,
  ttft_ms int,
  error_type text,
  error_message text,
  created_at timestamptz not null default now()
);
create index usage_ledger_user_created on public.usage_ledger (user_id, created_at);
create index usage_ledger_conversation on public.usage_ledger (conversation_id);
create index usage_ledger_message on public.usage_ledger (message_id);
create index usage_ledger_price on public.usage_ledger (price_id);
create index usage_ledger_created on public.usage_ledger (created_at);

alter table public.usage_ledger enable row level security;
create policy "usage_ledger: owner reads, admins read all" on public.usage_ledger
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
revoke insert, update, delete on public.usage_ledger from anon, authenticated;

-- Daily totals per user, model and product step, kept up to date by a trigger on the ledger.
-- Usage reports read these; the ledger's detail can then be purged after its retention window.
create table public.usage_daily (
  user_id uuid not null references auth.users (id) on delete cascade,
  day date not null,
  model text not null,
  product text not null,
  product_step text not null,
  calls int not null default 0,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cached_read_tokens bigint not null default 0,
  cache_write_tokens bigint not null default 0,
  reasoning_tokens bigint not null default 0,
  cost_micro_usd bigint not null default 0,
  primary key (user_id, day, model, product, product_step)
);
create index usage_daily_day on public.usage_daily (day);
alter table public.usage_daily enable row level security;
create policy "usage_daily: owner reads, admins read all" on public.usage_daily
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
revoke insert, update, delete on public.usage_daily from anon, authenticated;

create function private.roll_up_usage() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.usage_daily as d (user_id, day, model, product, product_step, calls,
    input_tokens, output_tokens, cached_read_tokens, cache_write_tokens, reasoning_tokens, cost_micro_usd)
  values (new.user_id, (new.created_at at time zone 'UTC')::date, new.model, new.product,
    new.product_step, 1, new.input_tokens, new.output_tokens, new.cached_read_tokens,
    new.cache_write_tokens, new.reasoning_tokens, new.cost_micro_usd)
  on conflict (user_id, day, model, product, product_step) do update set
    calls = d.calls + 1,
    input_tokens = d.input_tokens + excluded.input_tokens,
    output_tokens = d.output_tokens + excluded.output_tokens,
    cached_read_tokens = d.cached_read_tokens + excluded.cached_read_tokens,
    cache_write_tokens = d.cache_write_tokens + excluded.cache_write_tokens,
    reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
    cost_micro_usd = d.cost_micro_usd + excluded.cost_micro_usd;
  return null;
end $$;
revoke execute on function private.roll_up_usage() from public, anon, authenticated;

create trigger usage_ledger_roll_up after insert on public.usage_ledger
  for each row execute function private.roll_up_usage();

-- Privileged functions of the chat pipeline ----------------------------------------------------
-- They live in `private` (not exposed by the API) and are called by the functions over their
-- database connection: either inside a transaction that runs as the user (auth.uid() set), or
-- as the service for writes no user may make (usage, assistant output).

-- Creates the assistant message that answers `p_parent` in the caller's own conversation.
create function private.open_assistant_message(p_conversation uuid, p_parent uuid, p_model text)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  new_id uuid;
begin
  if not exists (select 1 from public.conversations
                 where id = p_conversation and user_id = auth.uid() and deleted_at is null) then
    raise exception 'conversation not found' using errcode = 'P0002';
  end if;
  insert into public.messages (conversation_id, user_id, parent_id, role, status, model)
  values (p_conversation, auth.uid(), p_parent, 'assistant', 'pending', p_model)
  returning id into new_id;
  update public.conversations set active_leaf_id = new_id, last_message_at = now()
  where id = p_conversation;
  return new_id;
end $$;
revoke execute on function private.open_assistant_message(uuid, uuid, text) from public, anon;
grant execute on function private.open_assistant_message(uuid, uuid, text) to authenticated;

-- Saves the reply so far; returns whether someone asked to stop it.
create function private.save_progress(p_message uuid, p_parts jsonb, p_content text,
                                      p_model text, p_provider text, p_provider_model text,
                                      p_ttft_ms int)
returns boolean
language sql security definer set search_path = '' as $$
  update public.messages set
    parts = p_parts,
    content = p_content,
    status = 'streaming',
    model = coalesce(p_model, model),
    provider = coalesce(p_provider, provider),
    provider_model = coalesce(p_provider_model, provider_model),
    ttft_ms = coalesce(ttft_ms, p_ttft_ms)
  where id = p_message and status in ('pending', 'streaming')
  returning stop_requested_at is not null
$$;
revoke execute on function private.save_progress(uuid, jsonb, text, text, text, text, int) from public, anon, authenticated;

-- Records one provider call and adds it to its conversation's totals, once per call_id.
-- The cost comes from the price in effect at the time of the call.
create function private.record_usage(p jsonb) returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  price public.model_prices;
  row public.usage_ledger;
  reasoning int := coalesce((p ->> 'reasoning_tokens')::int, 0);
  output int := coalesce((p ->> 'output_tokens')::int, 0);
begin
  select * into price from private.current_model_prices where model_alias = p ->> 'model';

  insert into public.usage_ledger (
    call_id, request_id, user_id, conversation_id, message_id, product, product_step, provider,
    model, provider_model, attempt, status, input_tokens, output_tokens, cached_read_tokens,
    cache_write_tokens, reasoning_tokens, cost_micro_usd, price_id, latency_ms, ttft_ms,
    error_type, error_message)
  values (
    (p ->> 'call_id')::uuid, p ->> 'request_id', (p ->> 'user_id')::uuid,
    (p ->> 'conversation_id')::uuid, (p ->> 'message_id')::uuid,
    coalesce(p ->> 'product', 'chat'), p ->> 'product_step', p ->> 'provider', p ->> 'model',
    p ->> 'provider_model', coalesce((p ->> 'attempt')::int, 1), p ->> 'status',
    coalesce((p ->> 'input_tokens')::int, 0), output,
    coalesce((p ->> 'cached_read_tokens')::int, 0), coalesce((p ->> 'cache_write_tokens')::int, 0),
    reasoning,
    coalesce(round(
        coalesce((p ->> 'input_tokens')::int, 0) * price.input_per_mtok
      + (output - reasoning) * price.output_per_mtok
      + reasoning * coalesce(price.reasoning_per_mtok, price.output_per_mtok)
      + coalesce((p ->> 'cached_read_tokens')::int, 0) * price.cached_read_per_mtok
      + coalesce((p ->> 'cache_write_tokens')::int, 0) * price.cache_write_per_mtok), 0),
    price.id, (p ->> 'latency_ms')::int, (p ->> 'ttft_ms')::int, p ->> 'error_type',
    left(p ->> 'error_message', 1000))
  on conflict (call_id) do nothing
  returning * into row;

  if row.id is not null and row.conversation_id is not null then
    update public.conversations set
      input_tokens = input_tokens + row.input_tokens,
      output_tokens = output_tokens + row.output_tokens,
      cached_read_tokens = cached_read_tokens + row.cached_read_tokens,
      cache_write_tokens = cache_write_tokens + row.cache_write_tokens,
      reasoning_tokens = reasoning_tokens + row.reasoning_tokens,
      cost_micro_usd = cost_micro_usd + row.cost_micro_usd
    where id = row.conversation_id;
  end if;
  return row.id;
end $$;
revoke execute on function private.record_usage(jsonb) from public, anon, authenticated;

-- Ends an assistant message: final parts and status, its usage summed from the ledger, and the
-- conversation's last_message_at, in one transaction. A message already final stays as it is.
create function private.finish_message(p_message uuid, p_status text, p_parts jsonb,
                                       p_content text, p_finish_reason text, p_latency_ms int,
                                       p_error_type text default null,
                                       p_error_details jsonb default null)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  conv uuid;
begin
  update public.messages m set
    status = p_status,
    parts = p_parts,
    content = p_content,
    finish_reason = p_finish_reason,
    latency_ms = p_latency_ms,
    error_type = p_error_type,
    error_details = p_error_details,
    completed_at = now(),
    input_tokens = u.input_tokens,
    output_tokens = u.output_tokens,
    cached_read_tokens = u.cached_read_tokens,
    cache_write_tokens = u.cache_write_tokens,
    reasoning_tokens = u.reasoning_tokens,
    cost_micro_usd = u.cost_micro_usd
  from (
    select coalesce(sum(input_tokens), 0) as input_tokens,
           coalesce(sum(output_tokens), 0) as output_tokens,
           coalesce(sum(cached_read_tokens), 0) as cached_read_tokens,
           coalesce(sum(cache_write_tokens), 0) as cache_write_tokens,
           coalesce(sum(reasoning_tokens), 0) as reasoning_tokens,
           coalesce(sum(cost_micro_usd), 0) as cost_micro_usd
    from public.usage_ledger where message_id = p_message
  ) u
  where m.id = p_message and m.status in ('pending', 'streaming')
  returning m.conversation_id into conv;

  if conv is not null then
    update public.conversations set last_message_at = now() where id = conv;
  end if;
end $$;
revoke execute on function private.finish_message(uuid, text, jsonb, text, text, int, text, jsonb)
  from public, anon, authenticated;
