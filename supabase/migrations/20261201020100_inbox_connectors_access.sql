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

-- The connectors' scheduled work (Slack backfills, Graph subscription renewal, token key rotation)
-- runs in the connectors function, which holds the platform credentials and the token keys: every
-- minute pg_cron asks it to, through pg_net with the Vault webhook secret (jobs.ts).
create function private.dispatch_connector_tick() returns void
language plpgsql security definer set search_path = '' as $$
declare
  base_url text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_functions_url');
  secret text := (select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret');
begin
  if base_url is null or secret is null then
    raise warning 'aide: Vault secrets aide_functions_url / aide_webhook_secret are missing; connector jobs wait';
    return;
  end if;
  perform net.http_post(
    url := base_url || '/connectors/jobs/tick',
    body := '{}'::jsonb,
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || secret),
    timeout_milliseconds := 60000);
end $$;
revoke execute on function private.dispatch_connector_tick() from public, anon, authenticated;

select cron.schedule('aide-connectors', '* * * * *', 'select private.dispatch_connector_tick()');
