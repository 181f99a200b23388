-- Always-on sync: conditional character refreshes, guild rosters, the global Battle.net rate
-- limiter, queue status, and the pg_cron schedules. Every job's body is a SQL function that
-- tests call directly (pg_cron 1.4 knows no seconds; cloned databases get no jobs).

alter table public.characters add column if not exists refreshed_at timestamptz;
create index if not exists characters_refresh_due
  on public.characters (coalesce(refreshed_at, enriched_at, created_at)) where is_active;

-- ---------------------------------------------------------------------------------------
-- Global rate limiter: one token bucket per Battle.net client id, shared by every process.
-- The bucket refills at 95 % of the per-second limit with a burst of 3 %, so no wall-clock
-- second at Battle.net ever sees more than the limit; the hourly budget is a fixed window.

create table if not exists public.rate_limit_buckets (
  bucket       text primary key,
  tokens       double precision not null,
  refreshed_at timestamptz      not null default clock_timestamp(),
  hour_start   timestamptz      not null default date_trunc('hour', now()),
  hour_count   integer          not null default 0,
  granted      bigint           not null default 0,
  waited       bigint           not null default 0
);
alter table public.rate_limit_buckets enable row level security;
revoke all on public.rate_limit_buckets from anon, authenticated;
grant all on public.rate_limit_buckets to service_role;

-- Take up to p_want tokens: {granted, waitMs}. waitMs says how long until one is due.
create or replace function public.rate_limit_take(
  p_bucket text, p_want integer, p_per_second integer, p_per_hour integer
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  b rate_limit_buckets;
  v_now timestamptz := clock_timestamp();
  v_rate double precision := p_per_second * 0.95;
  v_burst double precision := greatest(1.0, p_per_second * 0.03);
  v_tokens double precision;
  v_granted integer;
  v_wait integer := 0;
begin
  insert into rate_limit_buckets (bucket, tokens) values (p_bucket, v_burst)
  on conflict (bucket) do nothing;
  select * into b from rate_limit_buckets where bucket = p_bucket for update;
  if b.hour_start < date_trunc('hour', v_now) then
    b.hour_start := date_trunc('hour', v_now);
    b.hour_count := 0;
  end if;
  v_tokens := least(v_burst,
                    b.tokens + v_rate * extract(epoch from v_now - b.refreshed_at));
  v_granted := greatest(0, least(p_want, floor(v_tokens)::int, p_per_hour - b.hour_count));
  if v_granted = 0 then
    if b.hour_count >= p_per_hour then
      v_wait := ceil(extract(epoch from b.hour_start + interval '1 hour' - v_now) * 1000);
    else
      v_wait := ceil((1.0 - v_tokens) / v_rate * 1000);
    end if;
  end if;
  update rate_limit_buckets set
    tokens = v_tokens - v_granted, refreshed_at = v_now, hour_start = b.hour_start,
    hour_count = b.hour_count + v_granted, granted = granted + v_granted,
    waited = waited + (v_granted = 0)::int
  where bucket = p_bucket;
  return jsonb_build_object('granted', v_granted, 'waitMs', greatest(v_wait, 0));
end
$$;

-- ---------------------------------------------------------------------------------------
-- Conditional character refreshes (app token, no user login needed)

create or replace function public.refresh_message(c public.characters)
returns jsonb language sql immutable as $$
  select jsonb_build_object(
    'type', 'refresh_character', 'characterId', c.id, 'blizzardId', c.blizzard_id,
    'region', c.region, 'flavor', c.flavor, 'realmSlug', c.realm_slug, 'name', c.name,
    'lastModified', c.last_modified)
$$;

-- A scheduled account sync: the account's characters upserted as on a user's sync, and one
-- conditional refresh each queued (no session: nobody is watching).
create or replace function public.refresh_account_characters(
  p_user_id uuid, p_region text, p_flavor text, p_characters jsonb,
  p_archive_missing boolean default true, p_queue text default 'character_refresh'
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_ids bigint[];
begin
  v_ids := upsert_account_characters(p_user_id, p_region, p_flavor, p_characters,
                                     p_archive_missing);
  perform pgmq.send_batch(p_queue, array_agg(refresh_message(c)))
  from characters c where c.id = any (v_ids)
  having count(*) > 0;
  update characters set last_enqueued_at = now() where id = any (v_ids);
  return cardinality(v_ids);
end
$$;

-- The result of one refresh: 'modified' writes the profile, 'not_modified' only stamps it,
-- 'archived' (404 with an invalid status, or another character behind the same name) archives.
create or replace function public.record_character_refresh(
  p_character_id bigint, p_result text, p_data jsonb default null
) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if p_result = 'modified' then
    perform apply_character_profile(p_character_id, p_data);
  elsif p_result = 'archived' then
    update characters set is_active = false, archived_at = now(), updated_at = now()
    where id = p_character_id;
  elsif p_result <> 'not_modified' then
    raise exception 'unknown refresh result %', p_result;
  end if;
  update characters set refreshed_at = now() where id = p_character_id;
end
$$;

-- ---------------------------------------------------------------------------------------
-- Guild rosters

create or replace function public.roster_message(g public.guilds)
returns jsonb language sql immutable as $$
  select jsonb_build_object(
    'type', 'guild_roster', 'guildId', g.id, 'region', g.region, 'flavor', g.flavor,
    'realmSlug', g.realm_slug, 'slug', g.slug, 'lastModified', g.roster_last_modified)
$$;

-- Every member upserted as a character (user_id null for members of no user; a user's
-- character keeps its user), with the guild and rank; members no longer listed leave it.
create or replace function public.apply_guild_roster(
  p_guild_id bigint, p_members jsonb, p_last_modified timestamptz, p_member_count integer
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  g guilds;
  v_ids bigint[];
  v_left integer;
begin
  select * into g from guilds where id = p_guild_id for update;
  if g.id is null then
    return null;
  end if;
  with src as (
    select * from jsonb_to_recordset(p_members) as x(
      blizzard_id bigint, name text, realm_id int, realm_slug text, level int, class_id int,
      race_id int, faction text, rank int)
  ), up as (
    insert into characters as c (region, flavor, realm_id, realm_slug, blizzard_id, name,
      level, class_id, race_id, faction, guild_id, guild_rank)
    select g.region, g.flavor, realm_id, realm_slug, blizzard_id, name, level, class_id,
           race_id, faction, g.id, rank
    from src
    on conflict (region, flavor, realm_id, blizzard_id) do update
      set name = excluded.name, realm_slug = excluded.realm_slug,
          level = coalesce(excluded.level, c.level),
          class_id = coalesce(excluded.class_id, c.class_id),
          race_id = coalesce(excluded.race_id, c.race_id),
          faction = coalesce(excluded.faction, c.faction),
          guild_id = excluded.guild_id, guild_rank = excluded.guild_rank, updated_at = now()
    returning c.id
  )
  select coalesce(array_agg(id), '{}') into v_ids from up;
  update characters set guild_id = null, guild_rank = null, updated_at = now()
  where guild_id = g.id and not (id = any (v_ids));
  get diagnostics v_left = row_count;
  update guilds set roster_synced_at = now(), roster_last_modified = p_last_modified,
    member_count = coalesce(p_member_count, cardinality(v_ids)), updated_at = now()
  where id = g.id;
  return jsonb_build_object('members', cardinality(v_ids), 'left', v_left);
end
$$;

create or replace function public.touch_guild_roster(p_guild_id bigint)
returns void language sql security definer set search_path = public, pg_temp as $$
  update guilds set roster_synced_at = now() where id = p_guild_id;
$$;

-- ---------------------------------------------------------------------------------------
-- Job bodies (pg_cron calls them; tests call them directly). Each returns what it queued.

-- Daily: users whose Battle.net token is still valid and whose account sync is stale, in one
-- send_batch; no second message for a user whose last one is still pending; nothing at all
-- while the queue is over its backlog.
create or replace function public.enqueue_profile_refreshes(
  p_stale interval default interval '20 hours', p_max_backlog integer default 50000,
  p_limit integer default 200000, p_chunk integer default 10000
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_ids uuid[];
  v_messages jsonb[];
  v_total integer := 0;
  v_room integer;
begin
  if (select count(*) from pgmq.q_profile_sync) >= p_max_backlog then
    return 0;  -- the consumers are behind: do not pile on
  end if;
  v_room := p_limit;
  -- In chunks, so memory stays bounded however many users are due.
  while v_room - v_total > 0 loop
    select array_agg(u.id), array_agg(jsonb_build_object(
             'type', 'profile_sync', 'userId', u.id, 'gameVersion', 'retail',
             'reason', 'scheduled'))
    into v_ids, v_messages
    from (
      select u.id from users u
      where u.login_state = 'active' and u.token_expires_at > now()
        and (u.last_profile_sync_at is null or u.last_profile_sync_at < now() - p_stale)
        and not exists (select 1 from pgmq.q_profile_sync q
                        where q.message->>'userId' = u.id::text)
      order by u.last_profile_sync_at nulls first, u.id
      limit least(p_chunk, v_room - v_total)
    ) u;
    exit when v_ids is null;
    perform pgmq.send_batch('profile_sync', v_messages);
    update users set last_enqueued_at = now() where id = any (v_ids);
    v_total := v_total + cardinality(v_ids);
  end loop;
  return v_total;
end
$$;

-- Hourly: characters whose data is stale, with the app token. Active characters (recent
-- login, higher level) are due sooner than dormant ones.
create or replace function public.character_refresh_interval(c public.characters)
returns interval language sql stable as $$
  select case
    when c.last_login_at > now() - interval '3 days' and coalesce(c.level, 0) >= 60
      then interval '6 hours'
    when c.last_login_at > now() - interval '14 days' then interval '1 day'
    when c.last_login_at > now() - interval '60 days' then interval '3 days'
    else interval '7 days'
  end
$$;

create or replace function public.enqueue_character_refreshes(
  p_limit integer default 5000, p_max_backlog integer default 50000
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_ids bigint[];
  v_messages jsonb[];
begin
  if (select count(*) from pgmq.q_character_refresh) >= p_max_backlog then
    return 0;
  end if;
  select array_agg(c.id), array_agg(refresh_message(c)) into v_ids, v_messages
  from (
    select c.* from characters c
    where c.is_active
      and coalesce(c.refreshed_at, c.enriched_at, c.created_at)
          < now() - character_refresh_interval(c)
      and (c.last_enqueued_at is null
           or c.last_enqueued_at < coalesce(c.refreshed_at, c.enriched_at, '-infinity')
           or c.last_enqueued_at < now() - interval '1 day')
    order by c.last_login_at desc nulls last, c.level desc nulls last
    limit p_limit
  ) c;
  if v_ids is null then
    return 0;
  end if;
  perform pgmq.send_batch('character_refresh', v_messages);
  update characters set last_enqueued_at = now() where id = any (v_ids);
  return cardinality(v_ids);
end
$$;

-- Monthly: the same work as sync-static-data, for the consumer.
create or replace function public.enqueue_static_sync()
returns integer language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if exists (select 1 from pgmq.q_static_data) then
    return 0;
  end if;
  perform pgmq.send('static_data', jsonb_build_object('type', 'static_data'));
  return 1;
end
$$;

-- Daily: the rosters of every guild with at least one registered member.
create or replace function public.enqueue_guild_rosters(
  p_stale interval default interval '20 hours'
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_messages jsonb[];
begin
  select array_agg(roster_message(g)) into v_messages
  from guilds g
  where exists (select 1 from characters c where c.guild_id = g.id and c.user_id is not null)
    and (g.roster_synced_at is null or g.roster_synced_at < now() - p_stale)
    and not exists (select 1 from pgmq.q_guild_roster q
                    where (q.message->>'guildId')::bigint = g.id);
  if v_messages is null then
    return 0;
  end if;
  perform pgmq.send_batch('guild_roster', v_messages);
  return cardinality(v_messages);
end
$$;

-- Every few minutes: sessions stuck in processing past a limit fail (sync-error), and old
-- events and login states are cleaned up.
create or replace function public.expire_stuck_sessions(p_limit interval default interval '30 minutes')
returns integer language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_count integer;
begin
  update character_sync_sessions
  set status = 'failed', completed_at = now(), updated_at = now(),
      error = format('the sync made no progress for %s and was stopped', p_limit)
  where status in ('pending', 'processing') and updated_at < now() - p_limit;
  get diagnostics v_count = row_count;
  delete from sync_events where created_at < now() - interval '7 days';
  delete from oauth_states where expires_at < now() - interval '1 day';
  return v_count;
end
$$;

-- Hosted Supabase: pg_cron + pg_net call the queue-consumer function. Needs the settings
-- app.functions_url and app.service_role_key (alter database postgres set ...).
create or replace function public.invoke_queue_consumer()
returns bigint language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_url text := current_setting('app.functions_url', true);
  v_key text := current_setting('app.service_role_key', true);
  v_id bigint;
begin
  if to_regnamespace('net') is null or v_url is null or v_key is null then
    return null;
  end if;
  execute 'select net.http_post(url := $1, body := $2, headers := $3)'
    into v_id
    using v_url || '/queue-consumer', '{"maxMessages": 200, "maxSeconds": 50}'::jsonb,
          jsonb_build_object('Authorization', 'Bearer ' || v_key,
                             'Content-Type', 'application/json');
  return v_id;
end
$$;

-- ---------------------------------------------------------------------------------------
-- What an operator looks at: queues, dead letters, the rate limiter.

create or replace function public.queue_status()
returns jsonb language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  q text;
  v_queues jsonb := '{}';
  v_dead bigint;
  v_depth bigint;
  v_oldest double precision;
begin
  for q in select queue_name from pgmq.list_queues() order by queue_name loop
    execute format('select count(*), extract(epoch from now() - min(enqueued_at)) from pgmq.%I',
                   'q_' || q) into v_depth, v_oldest;
    execute format('select count(*) from pgmq.%I where archived_at > now() - interval ''1 day'' '
                   'and message ? ''deadLetter''', 'a_' || q) into v_dead;
    v_queues := v_queues || jsonb_build_object(q, jsonb_build_object(
      'depth', v_depth, 'oldestMessageAgeSeconds', round(coalesce(v_oldest, 0)::numeric, 1),
      'deadLettersLastDay', v_dead));
  end loop;
  return jsonb_build_object(
    'queues', v_queues,
    'rateLimiter', (select coalesce(jsonb_object_agg(bucket, jsonb_build_object(
        'tokens', round(tokens::numeric, 2), 'hourCount', hour_count,
        'hourStart', hour_start, 'granted', granted, 'waits', waited)), '{}')
      from rate_limit_buckets),
    'cronJobs', case when to_regclass('cron.job') is null then '[]'::jsonb
                else (select coalesce(jsonb_agg(jsonb_build_object(
                        'name', jobname, 'schedule', schedule, 'active', active)
                        order by jobname), '[]') from cron.job) end);
end
$$;

select public.grant_to_service_role_only(
  'rate_limit_take(text,integer,integer,integer)',
  'refresh_account_characters(uuid,text,text,jsonb,boolean,text)',
  'record_character_refresh(bigint,text,jsonb)',
  'apply_guild_roster(bigint,jsonb,timestamptz,integer)',
  'touch_guild_roster(bigint)',
  'enqueue_profile_refreshes(interval,integer,integer,integer)',
  'enqueue_character_refreshes(integer,integer)',
  'enqueue_static_sync()',
  'enqueue_guild_rosters(interval)',
  'expire_stuck_sessions(interval)',
  'invoke_queue_consumer()',
  'queue_status()'
);

-- The schedules (where pg_cron is installed: the database named by cron.database_name).
do $$
begin
  if to_regnamespace('cron') is null then
    raise notice 'pg_cron is not installed in this database: no schedules';
    return;
  end if;
  perform cron.schedule('guild-sync-profile-refresh', '17 3 * * *',
                        'select public.enqueue_profile_refreshes()');
  perform cron.schedule('guild-sync-character-refresh', '7 * * * *',
                        'select public.enqueue_character_refreshes()');
  perform cron.schedule('guild-sync-static-data', '23 4 1 * *',
                        'select public.enqueue_static_sync()');
  perform cron.schedule('guild-sync-guild-rosters', '41 5 * * *',
                        'select public.enqueue_guild_rosters()');
  perform cron.schedule('guild-sync-expire-stuck-sessions', '*/5 * * * *',
                        'select public.expire_stuck_sessions()');
  if to_regnamespace('net') is not null then
    perform cron.schedule('guild-sync-queue-consumer', '* * * * *',
                          'select public.invoke_queue_consumer()');
  end if;
end
$$;
