-- Inbox connectors, continued: the allowlist's restrictive policy on the inbox tables (see
-- 20261201010000_account_access.sql), the bound on events.raw, and merge_person without an
-- implicit text-to-jsonb cast (supabase db lint).

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

create or replace function private.merge_person(p_user_id uuid, p_name text, p_aliases text[], p_metadata jsonb default '{}')
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  keys text[] := array(select distinct lower(a) from unnest(p_aliases) a where a is not null and a <> '');
  matches uuid[];
  survivor uuid;
  merged_aliases jsonb;
  merged_metadata jsonb := '{}'::jsonb;
  other record;
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('aide:entities:' || p_user_id, 0));
  select array_agg(id order by created_at, id) into matches
  from public.entities where user_id = p_user_id and kind = 'person' and aliases ?| keys;
  if matches is null then
    insert into public.entities (user_id, kind, name, aliases, metadata)
    values (p_user_id, 'person', left(coalesce(nullif(p_name, ''), keys[1], 'unknown'), 300),
            to_jsonb(keys), coalesce(p_metadata, '{}'))
    returning id into survivor;
    return survivor;
  end if;
  survivor := matches[1];
  -- Older entities' metadata first, so the newest facts (this delivery's) win.
  for other in select metadata from public.entities where id = any (matches) order by created_at, id loop
    merged_metadata := merged_metadata || other.metadata;
  end loop;
  select to_jsonb(array_agg(distinct a order by a)) into merged_aliases
  from (select jsonb_array_elements_text(e.aliases) a from public.entities e where e.id = any (matches)
        union select unnest(keys)) x;
  update public.entities s set
    aliases = merged_aliases,
    metadata = merged_metadata || coalesce(p_metadata, '{}'),
    -- A real name beats an address or an id.
    name = case when coalesce(p_name, '') <> '' and (s.name like '%@%' or s.name like '%:%')
                then left(p_name, 300) else s.name end
  where s.id = survivor;
  if cardinality(matches) > 1 then
    update public.events set sender_entity_id = survivor where sender_entity_id = any (matches[2:]);
    delete from public.entities where id = any (matches[2:]);
  end if;
  return survivor;
end $$;
