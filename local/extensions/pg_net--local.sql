-- Local stand-in for pg_net. Like the real extension, net.http_* only enqueue a request and
-- return its id; the request is sent after the transaction commits (never if it rolls back)
-- and the response lands in net._http_response. Here a NOTIFY, which Postgres delivers only
-- on commit, wakes the stack's relay process, which does the sending.
create schema net;

create table net.http_request_queue (
  id bigserial primary key,
  method text not null,
  url text not null,
  headers jsonb not null default '{}',
  body bytea,
  timeout_milliseconds int not null
);

create unlogged table net._http_response (
  id bigint,
  status_code int,
  content_type text,
  headers jsonb,
  content text,
  timed_out bool,
  error_msg text,
  created timestamptz not null default now()
);
create index on net._http_response (created);

create function net._enqueue(method text, url text, params jsonb, headers jsonb, body bytea,
  timeout_milliseconds int) returns bigint
language plpgsql as $$
declare
  query text;
  request_id bigint;
begin
  select string_agg(format('%s=%s', key, value), '&') into query
  from jsonb_each_text(coalesce(params, '{}'));
  if query is not null then
    url := url || case when position('?' in url) > 0 then '&' else '?' end || query;
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, url, coalesce(headers, '{}'), body, timeout_milliseconds)
  returning id into request_id;
  perform pg_notify('aide_pg_net', request_id::text);
  return request_id;
end $$;

create function net.http_get(url text, params jsonb default '{}', headers jsonb default '{}',
  timeout_milliseconds int default 5000) returns bigint
language sql as $$
  select net._enqueue('GET', url, params, headers, null, timeout_milliseconds)
$$;

create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}',
  headers jsonb default '{"Content-Type": "application/json"}', timeout_milliseconds int default 5000)
returns bigint
language sql as $$
  select net._enqueue('POST', url, params, headers, convert_to(body::text, 'UTF8'), timeout_milliseconds)
$$;

create function net.http_delete(url text, params jsonb default '{}', headers jsonb default '{}',
  timeout_milliseconds int default 5000) returns bigint
language sql as $$
  select net._enqueue('DELETE', url, params, headers, null, timeout_milliseconds)
$$;

revoke all on schema net from public;
revoke all on all functions in schema net from public;
grant usage on schema net to postgres, service_role;
grant execute on all functions in schema net to postgres, service_role;
grant select on net._http_response to postgres, service_role;
