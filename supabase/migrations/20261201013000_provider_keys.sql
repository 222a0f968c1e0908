-- Provider keys stay with the providers they belong to (see _shared/llm/endpoints.ts for the
-- functions' side: a default key is only sent to its provider's host or an allowlisted one).
-- Here: a model's base_url is https, or http on loopback only (local servers, the fakes),
-- whoever writes the row, PostgREST included; and base_url and api_key_env, which say where
-- every user's conversation goes and with which key, are not readable through /rest/v1/models.

alter table public.models drop constraint if exists models_base_url_is_https_or_loopback;
alter table public.models add constraint models_base_url_is_https_or_loopback check (
  base_url is null
  or base_url ~ '^https://[^/?#@[:space:]]+'
  or base_url ~* '^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/|$)');

-- Column privileges: signed-in users (admins too, through PostgREST) read every column but
-- these two; `select=*` must name columns instead (GET /rest/v1/models?select=alias,...).
-- Admins still set them (insert and update grants are unchanged) and read them through
-- GET /functions/v1/admin/models.
revoke select on public.models from anon, authenticated;
grant select (alias, provider, provider_model, display_name, purpose, context_window,
              max_output_tokens, capabilities, fallback, enabled, created_at, updated_at)
  on public.models to authenticated;

-- Where a model's calls go, for the functions, which read models as the calling user (RLS
-- decides which models they see; this only adds the two columns for a model they can see).
create or replace function private.model_endpoint(p_alias text)
returns table (base_url text, api_key_env text)
language sql stable security definer set search_path = '' as $$
  select m.base_url, m.api_key_env from public.models m
  where m.alias = p_alias and (m.enabled or (select private.is_admin()))
$$;
revoke execute on function private.model_endpoint(text) from public, anon;
grant execute on function private.model_endpoint(text) to authenticated;
