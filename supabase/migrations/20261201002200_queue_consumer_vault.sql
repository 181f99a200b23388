-- Hosted Supabase: pg_cron + pg_net call the queue-consumer function, with its URL and the
-- service-role key from Supabase Vault (never a database setting: any session can read those).
--   select vault.create_secret('https://<host>/functions/v1', 'guild_sync_functions_url');
--   select vault.create_secret('<service-role key>', 'guild_sync_service_role_key');
-- Whether pg_net and Vault exist is checked when the job runs, not when this migration runs,
-- so the job is scheduled everywhere pg_cron is and starts working once both are enabled.
-- Interactive work also pokes the consumer at once, throttled, so a user never waits for the
-- next cron tick: a new sync or enrichment session, and the profile sync a login queues.

-- The request's own budget: maxSeconds of draining, then the messages in flight finish and
-- the function answers. After the queues run empty the call looks again for idleSeconds, so
-- work queued right after it began (a sync started inside the poke throttle's 3 s) is picked
-- up by it, not by the next minute's. pg_net waits that long plus a margin (cold start, the last messages)
-- before it records a timeout.
create or replace function public.post_to_queue_consumer(
  p_max_messages integer default 200, p_max_seconds integer default 50
) returns bigint
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_url text;
  v_key text;
  v_id bigint;
begin
  if to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is null
     or to_regclass('vault.decrypted_secrets') is null then
    return null;
  end if;
  execute $q$
    select max(decrypted_secret) filter (where name = 'guild_sync_functions_url'),
           max(decrypted_secret) filter (where name = 'guild_sync_service_role_key')
    from vault.decrypted_secrets
    where name in ('guild_sync_functions_url', 'guild_sync_service_role_key')
  $q$ into v_url, v_key;
  if nullif(v_url, '') is null or nullif(v_key, '') is null then
    return null;
  end if;
  execute 'select net.http_post(url := $1, body := $2, params := $3, headers := $4, '
          'timeout_milliseconds := $5)'
    into v_id
    using rtrim(v_url, '/') || '/queue-consumer',
          jsonb_build_object('maxMessages', p_max_messages, 'maxSeconds', p_max_seconds,
                             'idleSeconds', 10),
          '{}'::jsonb,
          jsonb_build_object('Authorization', 'Bearer ' || v_key,
                             'Content-Type', 'application/json'),
          (p_max_seconds + 10) * 1000;
  return v_id;
end
$$;

-- The cron job's body (same name and signature as before; now reads Vault).
create or replace function public.invoke_queue_consumer()
returns bigint language sql security definer set search_path = public, pg_temp as $$
  select public.post_to_queue_consumer()
$$;

-- At most one poke every p_min_interval across all sessions: the first caller in a window
-- takes the row lock and posts; the others skip (skip locked: concurrent sync starts never
-- queue behind each other here). One row, created here; recreated if it ever goes missing.
create table if not exists public.queue_consumer_pokes (
  id         boolean primary key default true check (id),
  poked_at   timestamptz not null default '-infinity',
  request_id bigint
);
insert into public.queue_consumer_pokes (id) values (true) on conflict (id) do nothing;
alter table public.queue_consumer_pokes enable row level security;
revoke all on public.queue_consumer_pokes from anon, authenticated;
grant all on public.queue_consumer_pokes to service_role;

create or replace function public.poke_queue_consumer(
  p_min_interval interval default interval '3 seconds'
) returns bigint
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_id bigint;
begin
  if to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is null
     or to_regclass('vault.decrypted_secrets') is null then
    return null;  -- plain Postgres: the local consumer loop polls
  end if;
  perform 1 from queue_consumer_pokes
  where id and poked_at <= clock_timestamp() - p_min_interval
  for update skip locked;
  if not found then
    if exists (select 1 from queue_consumer_pokes) then
      return null;  -- poked within the window, or being poked right now
    end if;
    insert into queue_consumer_pokes (id) values (true) on conflict (id) do nothing;
  end if;
  v_id := post_to_queue_consumer();
  if v_id is not null then
    update queue_consumer_pokes set poked_at = clock_timestamp(), request_id = v_id where id;
  end if;
  return v_id;
end
$$;

-- The triggers' body. pg_net sends only after commit, so a rolled-back start sends nothing. A
-- failed poke never fails the user's sync: the cron job is the fallback.
create or replace function public.poke_queue_consumer_trigger()
returns trigger language plpgsql security definer set search_path = public, pg_temp as $$
begin
  begin
    perform poke_queue_consumer();
  exception when others then
    -- The code only: the message of a failed request could carry what was sent.
    raise warning 'queue-consumer poke failed (SQLSTATE %); the cron job will run it', sqlstate;
  end;
  return null;
end
$$;

-- A new session with work to do: an account sync or one character's enrichment.
drop trigger if exists character_sync_sessions_poke on public.character_sync_sessions;
create trigger character_sync_sessions_poke
  after insert on public.character_sync_sessions
  for each row when (new.status in ('pending', 'processing'))
  execute function public.poke_queue_consumer_trigger();

-- A profile sync queued for a user: upsert_login's first sync (and the daily job's batch,
-- once per statement).
drop trigger if exists users_profile_sync_poke on public.users;
create trigger users_profile_sync_poke
  after update of last_enqueued_at on public.users
  for each statement
  execute function public.poke_queue_consumer_trigger();

select public.grant_to_service_role_only(
  'post_to_queue_consumer(integer,integer)',
  'invoke_queue_consumer()',
  'poke_queue_consumer(interval)',
  'poke_queue_consumer_trigger()'
);

-- The key no longer belongs in a database setting: drop one an operator set by hand.
do $$
declare
  v_setting text;
begin
  foreach v_setting in array array['app.service_role_key', 'app.functions_url'] loop
    if exists (select 1 from pg_db_role_setting s, unnest(s.setconfig) c
               where s.setdatabase = (select oid from pg_database
                                      where datname = current_database())
                 and s.setrole = 0 and c like v_setting || '=%') then
      execute format('alter database %I reset %s', current_database(), v_setting);
    end if;
  end loop;
exception when insufficient_privilege then
  raise warning 'could not reset the app.* settings of this database: reset them by hand';
end
$$;

-- Every minute, wherever pg_cron is (it re-checks pg_net and Vault each time it runs).
do $$
begin
  if to_regnamespace('cron') is null then
    return;
  end if;
  perform cron.schedule('guild-sync-queue-consumer', '* * * * *',
                        'select public.invoke_queue_consumer()');
end
$$;
