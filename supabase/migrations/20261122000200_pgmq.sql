-- pgmq: the extension where it is available (hosted Supabase); locally the stack installs
-- pgmq's SQL before migrations run, so the guard skips. Then the pgmq_public wrappers that
-- Supabase exposes through PostgREST, granted to the service role only.

do $$
begin
  if to_regnamespace('pgmq') is null then
    create extension if not exists pgmq;
  end if;
end
$$;

create schema if not exists pgmq_public;
grant usage on schema pgmq_public to service_role;
grant usage on schema pgmq to service_role;

create or replace function pgmq_public.send(
  queue_name text, message jsonb, sleep_seconds integer default 0
) returns setof bigint
language sql security invoker set search_path = ''
as $$ select * from pgmq.send(queue_name, message, sleep_seconds) $$;

create or replace function pgmq_public.send_batch(
  queue_name text, messages jsonb[], sleep_seconds integer default 0
) returns setof bigint
language sql security invoker set search_path = ''
as $$ select * from pgmq.send_batch(queue_name, messages, sleep_seconds) $$;

create or replace function pgmq_public.read(
  queue_name text, sleep_seconds integer, n integer
) returns setof pgmq.message_record
language sql security invoker set search_path = ''
as $$ select * from pgmq.read(queue_name, sleep_seconds, n) $$;

create or replace function pgmq_public.pop(queue_name text)
returns setof pgmq.message_record
language sql security invoker set search_path = ''
as $$ select * from pgmq.pop(queue_name) $$;

create or replace function pgmq_public.archive(queue_name text, message_id bigint)
returns boolean
language sql security invoker set search_path = ''
as $$ select pgmq.archive(queue_name, message_id) $$;

create or replace function pgmq_public.delete(queue_name text, message_id bigint)
returns boolean
language sql security invoker set search_path = ''
as $$ select pgmq.delete(queue_name, message_id) $$;

revoke all on all functions in schema pgmq_public from public, anon, authenticated;
grant execute on all functions in schema pgmq_public to service_role;
grant all on all tables in schema pgmq to service_role;
grant all on all sequences in schema pgmq to service_role;
alter default privileges in schema pgmq grant all on tables to service_role;
alter default privileges in schema pgmq grant all on sequences to service_role;
