-- Stand-ins for pg_net and Supabase Vault, with their real signatures: net.http_post records
-- the request it would send (pg_net queues it and sends after commit), and
-- vault.decrypted_secrets is a view over plain secrets. Tests create them, then drop them.
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
language sql as $$
  insert into net.requests (url, body, params, headers, timeout_milliseconds)
  values (url, body, params, headers, timeout_milliseconds)
  returning id
$$;

create schema vault;
create table vault.secrets (
  id          uuid primary key default gen_random_uuid(),
  name        text unique,
  description text not null default '',
  secret      text not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
create view vault.decrypted_secrets as
  select id, name, description, secret, secret as decrypted_secret, created_at, updated_at
  from vault.secrets;
