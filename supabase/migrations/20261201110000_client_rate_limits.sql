-- Rate limits for public routes, where there is no user to count against: per client address
-- (the platform's, never a client-sent header; see _shared/client_address.ts). Today that is
-- GET /shared/:token, where anyone may guess tokens. The counters hold only a sha256 of the
-- address, and go with the same retention as the per-user counters (retention.rate_limits).

insert into public.app_settings (key, value, description) values
  ('rate_limit.shared', '{"requests": 60, "window_seconds": 60}',
   'GET /shared/:token (share links, no sign-in) per client address per window')
on conflict (key) do nothing;

-- In private: nobody reads these through the API, and they are no one's data to export.
create table private.client_rate_limit_counters (
  client_hash text not null check (client_hash ~ '^[0-9a-f]{64}$'),
  route_class text not null,
  window_start timestamptz not null,
  count int not null default 0,
  primary key (client_hash, route_class, window_start)
);
create index client_rate_limit_counters_window on private.client_rate_limit_counters (window_start);
revoke all on private.client_rate_limit_counters from public, anon, authenticated;

-- Counts one request of `p_class` from a client address, as private.check_rate_limit does for a
-- user (the same settings, rate_limit.<class>, and the same fixed windows and answer), without
-- per-user overrides. Always answers one row.
create function private.check_client_rate_limit(p_client_hash text, p_class text)
returns table (allowed boolean, max_requests int, remaining int, window_seconds int,
               retry_after_seconds int)
language plpgsql security definer set search_path = '' as $$
declare
  cfg jsonb;
  lim int;
  win int;
  win_start timestamptz;
  n int;
begin
  cfg := coalesce((select value from public.app_settings where key = 'rate_limit.' || p_class),
                  '{}'::jsonb);
  lim := (cfg ->> 'requests')::int;
  win := greatest(coalesce((cfg ->> 'window_seconds')::int, 60), 1);
  if lim is null then -- no limit configured for this class
    return query select true, null::int, null::int, win, 0;
    return;
  end if;
  win_start := to_timestamp(floor(extract(epoch from now()) / win) * win);
  insert into private.client_rate_limit_counters as r (client_hash, route_class, window_start, count)
  values (p_client_hash, p_class, win_start, 1)
  on conflict (client_hash, route_class, window_start) do update set count = r.count + 1
  returning r.count into n;
  return query select n <= lim, lim, greatest(lim - n, 0), win,
    greatest(ceil(extract(epoch from win_start + make_interval(secs => win) - clock_timestamp())), 1)::int;
end $$;
revoke execute on function private.check_client_rate_limit(text, text) from public, anon, authenticated;

insert into private.retention_rules (name, table_name, time_column, window_setting, condition)
values ('client_rate_limits', 'private.client_rate_limit_counters', 'window_start',
        'retention.rate_limits', null)
on conflict (name) do nothing;
