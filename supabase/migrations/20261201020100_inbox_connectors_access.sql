-- Inbox connectors, continued: the allowlist's restrictive policy on the inbox tables (see
-- 20261201010000_account_access.sql), and the bound on events.raw.

select private.restrict_to_allowed_accounts('public.linked_accounts');
select private.restrict_to_allowed_accounts('public.oauth_tokens');
select private.restrict_to_allowed_accounts('public.threads');
select private.restrict_to_allowed_accounts('public.entities');
select private.restrict_to_allowed_accounts('public.events');
select private.restrict_to_allowed_accounts('public.notes');
select private.restrict_to_allowed_accounts('public.index_jobs');

-- A platform payload as kept in events.raw: whole when it fits app_settings inbox.raw_max_bytes,
-- else only its identifying fields (ids and timestamps), marked truncated. The message text is in
-- events.body either way.
create function private.bounded_raw(p_raw jsonb) returns jsonb
language sql stable set search_path = '' as $$
  select case
    when octet_length(p_raw::text) <= coalesce(
           (select (value #>> '{}')::int from public.app_settings where key = 'inbox.raw_max_bytes'), 32768)
      then p_raw
    else coalesce((select jsonb_object_agg(key, value) from jsonb_each(p_raw)
                   where jsonb_typeof(value) in ('string', 'number', 'boolean')
                     and (key ~ '(^id$|_id$|^ts$|_ts$|time|date|^type$|subtype)') and octet_length(value::text) <= 200),
                  '{}'::jsonb) || '{"truncated": true}'::jsonb
  end
$$;
revoke execute on function private.bounded_raw(jsonb) from public, anon, authenticated;

-- Calls a function of this project through pg_net with the Vault webhook secret (ids only in the
-- body: pg_net stalls on bodies over 64 KB). Without the Vault secrets (see README) the call waits
-- for them: a warning, and false.
create function private.post_to_function(p_path text, p_body jsonb, p_timeout_ms int default 120000)
returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  base_url text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_functions_url');
  secret text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret');
begin
  if base_url is null or secret is null then
    raise warning 'aide: Vault secrets aide_functions_url / aide_webhook_secret are missing; % waits', p_path;
    return false;
  end if;
  perform net.http_post(
    url := base_url || p_path,
    body := p_body,
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || secret),
    timeout_milliseconds := p_timeout_ms);
  return true;
end $$;
revoke execute on function private.post_to_function(text, jsonb, int) from public, anon, authenticated;

create or replace function private.dispatch_index(p_object_type text, p_object_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
begin
  if private.post_to_function('/ingest', jsonb_build_object('object_type', p_object_type, 'object_id', p_object_id)) then
    update public.index_jobs set dispatched_at = now()
    where object_type = p_object_type and object_id = p_object_id;
  end if;
end $$;

-- The connectors' scheduled work (Slack backfills, Graph subscription renewal, token key rotation)
-- runs in the connectors function, which holds the platform credentials and the token keys: every
-- minute pg_cron asks it to (POST /connectors/jobs/tick; jobs.ts).
select cron.schedule('aide-connectors', '* * * * *',
  $$select private.post_to_function('/connectors/jobs/tick', '{}'::jsonb, 60000)$$);
