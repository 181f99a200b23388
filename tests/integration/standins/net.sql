-- A stand-in for pg_net, with its real signature: net.http_post records the request it would
-- send (pg_net queues it and sends after commit), and net._http_response holds the answers
-- pg_net records (tests write them). Created by the platform's superuser, granted to postgres
-- as hosted's pg_net is (supabase/postgres: grant_pg_net_access), then dropped.
create schema net;
create table net.requests (
  id                    bigint generated always as identity primary key,
  url                   text,
  body                  jsonb,
  params                jsonb,
  headers               jsonb,
  timeout_milliseconds  integer,
  created_at            timestamptz not null default clock_timestamp()
);
create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql security definer set search_path = net as $$
  insert into net.requests (url, body, params, headers, timeout_milliseconds)
  values (url, body, params, headers, timeout_milliseconds)
  returning id
$$;

create table net._http_response (
  id            bigint,
  status_code   integer,
  content_type  text,
  headers       jsonb,
  content       text,
  timed_out     boolean,
  error_msg     text,
  created       timestamptz not null default now()
);
grant usage on schema net to postgres, service_role;
grant select on net.requests, net._http_response to postgres, service_role;
grant insert on net._http_response to postgres;
grant execute on function net.http_post(text, jsonb, jsonb, jsonb, integer) to postgres, service_role;
