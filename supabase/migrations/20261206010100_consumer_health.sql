-- The queue consumer, seen from the database (issue 14): which pgmq runs, when the consumer last
-- ran and how its last calls ended, and a cron job that fails loudly instead of doing nothing.

-- The pgmq the project runs on: the extension's version, 'sql' for pgmq installed as plain SQL
-- (the local stack's fallback), null when there is none.
create or replace function public.pgmq_version()
returns text language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(
    (select extversion::text from pg_extension where extname = 'pgmq'),
    case when to_regnamespace('pgmq') is not null then 'sql' end)
$$;

-- One row: the consumer's last call, its last success, its last error and how many calls
-- failed since the last success. Written by every consumer call (queue_consumer_report).
create table if not exists public.queue_consumer_health (
  id               boolean primary key default true check (id),
  last_run_at      timestamptz,
  last_success_at  timestamptz,
  last_error       text,
  last_error_code  text,
  last_error_at    timestamptz,
  errors_since     integer not null default 0
);
insert into public.queue_consumer_health (id) values (true) on conflict (id) do nothing;
alter table public.queue_consumer_health enable row level security;
revoke all on public.queue_consumer_health from anon, authenticated;
grant select, insert, update on public.queue_consumer_health to service_role;

create or replace function public.queue_consumer_report(
  p_ok boolean, p_error text default null, p_code text default null
) returns void
language sql security definer set search_path = public, pg_temp as $$
  insert into queue_consumer_health as h (id, last_run_at, last_success_at, last_error,
                                          last_error_code, last_error_at, errors_since)
  values (true, clock_timestamp(), case when p_ok then clock_timestamp() end,
          case when not p_ok then left(p_error, 500) end,
          case when not p_ok then p_code end,
          case when not p_ok then clock_timestamp() end,
          case when p_ok then 0 else 1 end)
  on conflict (id) do update set
    last_run_at = excluded.last_run_at,
    last_success_at = coalesce(excluded.last_success_at, h.last_success_at),
    last_error = coalesce(excluded.last_error, h.last_error),
    last_error_code = case when p_ok then h.last_error_code else excluded.last_error_code end,
    last_error_at = coalesce(excluded.last_error_at, h.last_error_at),
    errors_since = case when p_ok then 0 else h.errors_since + 1 end
$$;

-- The pg_net requests sent to the consumer (the cron job's and the pokes'), so the status can
-- show how they ended (net._http_response). The newest 200 are kept.
create table if not exists public.queue_consumer_calls (
  request_id bigint      primary key,
  source     text        not null,
  sent_at    timestamptz not null default clock_timestamp()
);
alter table public.queue_consumer_calls enable row level security;
revoke all on public.queue_consumer_calls from anon, authenticated;
grant select, insert, delete on public.queue_consumer_calls to service_role;

-- The consumer's URL and key from Vault (null where Vault or a secret is missing).
create or replace function public.queue_consumer_target(out url text, out key text)
language plpgsql stable security definer set search_path = public, pg_temp as $$
begin
  if to_regclass('vault.decrypted_secrets') is null then
    return;
  end if;
  select nullif(max(decrypted_secret) filter (where name = 'guild_sync_functions_url'), ''),
         nullif(max(decrypted_secret) filter (where name = 'guild_sync_service_role_key'), '')
  into url, key
  from vault.decrypted_secrets
  where name in ('guild_sync_functions_url', 'guild_sync_service_role_key');
end
$$;

-- What stops the pg_net consumer call, or null when nothing does: pg_net, Vault, or either of
-- the two secrets missing.
create or replace function public.queue_consumer_call_blocker()
returns text
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  t record;
begin
  if to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is null then
    return 'pg_net is not installed: enable the pg_net extension (Database, Extensions)';
  end if;
  if to_regclass('vault.decrypted_secrets') is null then
    return 'Supabase Vault is not available (vault.decrypted_secrets is missing)';
  end if;
  t := queue_consumer_target();
  if t.url is null then
    return 'the Vault secret guild_sync_functions_url is missing or empty';
  end if;
  if t.key is null then
    return 'the Vault secret guild_sync_service_role_key is missing or empty';
  end if;
  return null;
end
$$;

-- Post to <guild_sync_functions_url>/queue-consumer with the Vault key; null when something
-- named by queue_consumer_call_blocker() is missing. The request's own budget: maxSeconds of
-- draining; after the queues run empty the call looks again for idleSeconds; pg_net waits
-- that long plus a margin before it records a timeout.
create or replace function public.post_to_queue_consumer(
  p_max_messages integer default 200, p_max_seconds integer default 50
) returns bigint
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  t record;
  v_id bigint;
begin
  if queue_consumer_call_blocker() is not null then
    return null;
  end if;
  t := queue_consumer_target();
  -- pg_net is an optional extension, so the call is dynamic SQL: plpgsql_check cannot see
  -- net.http_post where pg_net is not enabled, and checks the rest of the function.
  perform 'PRAGMA:DISABLE:CHECK';
  execute 'select net.http_post(url := $1, body := $2, params := $3, headers := $4, '
          'timeout_milliseconds := $5)'
    into v_id
    using rtrim(t.url, '/') || '/queue-consumer',
          jsonb_build_object('maxMessages', p_max_messages, 'maxSeconds', p_max_seconds,
                             'idleSeconds', 10),
          '{}'::jsonb,
          jsonb_build_object('Authorization', 'Bearer ' || t.key,
                             'Content-Type', 'application/json'),
          (p_max_seconds + 10) * 1000;
  perform 'PRAGMA:ENABLE:CHECK';
  return v_id;
end
$$;

-- The cron job's body: raises when the call cannot be made, so pg_cron marks the run failed
-- in cron.job_run_details with the reason (a poke, which must never fail a user's sync, uses
-- post_to_queue_consumer and stays silent).
create or replace function public.invoke_queue_consumer()
returns bigint language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_blocker text := queue_consumer_call_blocker();
  v_id bigint;
begin
  if v_blocker is not null then
    raise exception 'guild-sync queue consumer not called: %', v_blocker
      using errcode = 'object_not_in_prerequisite_state';
  end if;
  v_id := post_to_queue_consumer();
  insert into queue_consumer_calls (request_id, source) values (v_id, 'cron')
  on conflict (request_id) do nothing;
  delete from queue_consumer_calls
  where request_id < (select min(request_id) from (select request_id from queue_consumer_calls
                      order by request_id desc limit 200) newest);
  return v_id;
end
$$;

-- The newest pg_net answers to the consumer calls recorded above (where pg_net keeps them).
create or replace function public.queue_consumer_responses(p_limit integer default 10)
returns jsonb
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  v_result jsonb;
begin
  if to_regclass('net._http_response') is null then
    return '[]'::jsonb;
  end if;
  perform 'PRAGMA:DISABLE:CHECK';  -- pg_net is optional: its table is read dynamically
  execute $q$
    select coalesce(jsonb_agg(jsonb_build_object(
             'requestId', c.request_id, 'source', c.source, 'sentAt', c.sent_at,
             'status', r.status_code, 'timedOut', r.timed_out, 'error', left(r.error_msg, 200),
             'at', r.created) order by c.request_id desc), '[]')
    from (select * from public.queue_consumer_calls order by request_id desc limit $1) c
    left join net._http_response r on r.id = c.request_id
  $q$ into v_result using p_limit;
  perform 'PRAGMA:ENABLE:CHECK';
  return v_result;
end
$$;

create or replace function public.consumer_status()
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select jsonb_build_object(
    'pgmq', pgmq_version(),
    'lastRunAt', h.last_run_at,
    'lastSuccessAt', h.last_success_at,
    'lastError', case when h.last_error is null then null else jsonb_build_object(
                   'message', h.last_error, 'code', h.last_error_code,
                   'at', h.last_error_at) end,
    'errorsSinceLastSuccess', coalesce(h.errors_since, 0),
    'cronCall', jsonb_build_object(
      'blocker', queue_consumer_call_blocker(),
      'lastResponses', queue_consumer_responses(10)))
  from (select 1) one left join queue_consumer_health h on h.id
$$;

create or replace function public.queue_status()
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select queue_status_base() || jsonb_build_object(
    'budget', budget_status(), 'pausedJobs', paused_jobs(), 'breaker', breaker_status(),
    'consumer', consumer_status())
$$;

select public.grant_to_service_role_only(
  'pgmq_version()',
  'queue_consumer_report(boolean,text,text)',
  'queue_consumer_target()',
  'queue_consumer_call_blocker()',
  'post_to_queue_consumer(integer,integer)',
  'invoke_queue_consumer()',
  'queue_consumer_responses(integer)',
  'consumer_status()',
  'queue_status()'
);
