-- Scheduled work sized by the Battle.net budget (issue 19). One hourly job plans a window of
-- bulk work: what the bulk share of one budget window can serve, less what is already queued,
-- from the measured cost of recent jobs (requests per job of each kind, recorded by the
-- consumer with each batch it completes). Account syncs (each with the refreshes of the
-- account's characters it queues), guild rosters and stale characters share the one plan; the
-- stalest and most active characters go first. A run never queues more than one window
-- serves. Each run's plan (due, enqueued, expected requests) is kept for the status.
--
-- The three job bodies keep their names and can still be run by hand; left without p_limit,
-- each takes what the plan leaves for its kind.

-- Each scheduler run's plan, for the status.
create table if not exists public.bulk_plans (
  id bigint generated always as identity primary key,
  planned_at timestamptz not null default now(),
  plan jsonb not null
);
alter table public.bulk_plans enable row level security;
revoke all on table public.bulk_plans from anon, authenticated;
grant all on public.bulk_plans to service_role;

-- Requests one job of a kind cost over the last day (a first guess until measured: a refresh
-- is a profile and its media, a roster or an account one request).
create or replace function public.job_cost(p_job text)
returns double precision
language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(
    (select sum(requests)::double precision / nullif(sum(jobs), 0) from job_costs
     where job = p_job and hour > now() - interval '1 day'),
    case p_job when 'refresh_character' then 2.0 else 1.0 end)
$$;

-- Users due for their daily account sync (auto-sync 'daily', a valid login, not synced for
-- p_stale, not queued), the longest waiting first, with their active characters (each one a
-- refresh the account sync queues).
create or replace function public.due_profile_syncs(p_stale interval default interval '20 hours')
returns table (user_id uuid, game_versions text[], characters integer, rank bigint)
language sql stable security definer set search_path = public, pg_temp as $$
  select u.id, u.sync_game_versions,
         (select count(*)::integer from characters c where c.user_id = u.id and c.is_active),
         row_number() over (order by u.last_profile_sync_at nulls first, u.id)
  from users u
  where u.auto_sync = 'daily' and u.login_state = 'active' and u.token_expires_at > now()
    and (u.last_profile_sync_at is null or u.last_profile_sync_at < now() - p_stale)
    and not exists (select 1 from pgmq.q_profile_sync q
                    where q.message->>'userId' = u.id::text)
$$;

-- Guilds whose roster is due: a registered member whose auto-sync is not off, not synced for
-- p_stale, not queued.
create or replace function public.due_guild_rosters(p_stale interval default interval '20 hours')
returns setof public.guilds
language sql stable security definer set search_path = public, pg_temp as $$
  select g.* from guilds g
  where exists (select 1 from characters c join users u on u.id = c.user_id
                where c.guild_id = g.id and u.auto_sync <> 'off')
    and (g.roster_synced_at is null or g.roster_synced_at < now() - p_stale)
    and not exists (select 1 from pgmq.q_guild_roster q
                    where (q.message->>'guildId')::bigint = g.id)
$$;

-- Characters due by the time the next run's work is served (character_refresh_interval:
-- active ones every 6 h, dormant weekly; runs are an hour apart and a run's work is paced over
-- the next window, so a run takes those within p_horizon, two hours, of their time and none is
-- served past it) that someone wants refreshed (scheduled_refresh_wanted) and that are not
-- queued, with how far into their interval they are (1.0 = just due): the stalest, then the
-- most active, first. A character never fetched (a new roster member) is due an hour after it
-- was first seen (its session, if a user's sync brought it, enriches it before that).
create or replace function public.due_character_refreshes(
  p_horizon interval default interval '2 hours'
) returns table (character_id bigint, overdue double precision, last_login_at timestamptz)
language sql stable security definer set search_path = public, pg_temp as $$
  select c.id,
         coalesce(extract(epoch from now() - f.fetched_at) / extract(epoch from f.every),
                  'infinity'),
         c.last_login_at
  from characters c
  cross join lateral (
    select character_refresh_interval(c) as every,
           coalesce(c.refreshed_at, c.enriched_at) as fetched_at
  ) f
  where c.is_active
    and case when f.fetched_at is null then c.created_at < now() - interval '1 hour'
             else f.fetched_at < now() - f.every + p_horizon end
    and (c.last_enqueued_at is null
         or c.last_enqueued_at < coalesce(c.refreshed_at, c.enriched_at, '-infinity')
         or c.last_enqueued_at < now() - interval '1 day')
    and scheduled_refresh_wanted(c)
$$;

-- One window of bulk work: the bulk share of a budget window (as the consumers last recorded
-- it in rate_limit_windows; Blizzard's 36,000 an hour with a reserve of 20 % until they have),
-- less the expected requests of the bulk work already queued, shared in order between the
-- account syncs, the rosters and the characters that are due. No side effects.
create or replace function public.bulk_plan(
  p_stale_profiles interval default interval '20 hours',
  p_stale_rosters interval default interval '20 hours'
) returns jsonb
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  v_capacity integer;
  v_window_s integer;
  v_refresh double precision := job_cost('refresh_character');
  v_roster double precision := job_cost('guild_roster');
  v_profile double precision := job_cost('profile_sync');
  v_per_account double precision;
  v_committed double precision;
  v_room double precision;
  v_due_profiles integer;
  v_due_rosters integer;
  v_due_characters integer;
  v_profiles integer;
  v_profiles_cost double precision;
  v_rosters integer;
  v_characters integer;
begin
  select w.bulk_cap, w.window_s into v_capacity, v_window_s
  from rate_limit_windows w order by w.window_start desc limit 1;
  v_capacity := coalesce(v_capacity, floor(36000 * 0.8)::integer);
  v_window_s := coalesce(v_window_s, 3600);
  -- a queued account sync: its own request and its characters' refreshes
  select v_profile + v_refresh * coalesce(avg(n), 0) into v_per_account
  from (select count(*) as n from characters c join users u on u.id = c.user_id
        where u.auto_sync = 'daily' and c.is_active group by u.id) a;
  v_committed := (select count(*) from pgmq.q_character_refresh) * v_refresh
               + (select count(*) from pgmq.q_guild_roster) * v_roster
               + (select count(*) from pgmq.q_profile_sync) * v_per_account;
  v_room := greatest(v_capacity - v_committed, 0);

  select count(*), coalesce(max(rank) filter (where running <= v_room), 0),
         coalesce(max(running) filter (where running <= v_room), 0)
  into v_due_profiles, v_profiles, v_profiles_cost
  from (select rank, sum(cardinality(game_versions) * v_profile + characters * v_refresh)
                       over (order by rank) as running
        from due_profile_syncs(p_stale_profiles)) p;
  v_room := v_room - v_profiles_cost;

  select count(*) into v_due_rosters from due_guild_rosters(p_stale_rosters);
  v_rosters := least(v_due_rosters, floor(v_room / greatest(v_roster, 0.01))::integer);
  v_room := v_room - v_rosters * v_roster;

  select count(*) into v_due_characters from due_character_refreshes();
  v_characters := least(v_due_characters, floor(v_room / greatest(v_refresh, 0.01))::integer);

  return jsonb_build_object(
    'windowSeconds', v_window_s,
    'capacity', v_capacity,
    'queuedRequests', round(v_committed::numeric, 1),
    'requestsPerJob', jsonb_build_object(
      'profileSync', round(v_profile::numeric, 2), 'guildRoster', round(v_roster::numeric, 2),
      'refreshCharacter', round(v_refresh::numeric, 2)),
    'due', jsonb_build_object(
      'profileSyncs', v_due_profiles, 'guildRosters', v_due_rosters,
      'characterRefreshes', v_due_characters),
    'allowed', jsonb_build_object(
      'profileSyncs', v_profiles, 'guildRosters', v_rosters, 'characterRefreshes', v_characters),
    'expectedRequests', round((v_profiles_cost + v_rosters * v_roster
                               + v_characters * v_refresh)::numeric, 1));
end
$$;

drop function if exists public.enqueue_profile_refreshes(interval, integer, integer, integer);
drop function if exists public.enqueue_character_refreshes(integer, integer);
drop function if exists public.enqueue_guild_rosters(interval);

-- Account syncs: the due users in order (one message per listed game version), at most
-- p_limit users (left null: what the plan leaves for them); in chunks, so memory stays bounded.
create or replace function public.enqueue_profile_refreshes(
  p_stale interval default interval '20 hours', p_max_backlog integer default 50000,
  p_limit integer default null, p_chunk integer default 10000
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_limit integer;
  v_due uuid[];
  v_ids uuid[];
  v_messages jsonb[];
  v_total integer := 0;
begin
  if not job_lock('enqueue_profile_refreshes') then
    return 0;  -- another run of this job is enqueuing right now
  end if;
  if (select count(*) from pgmq.q_profile_sync) >= p_max_backlog then
    return 0;  -- the consumers are behind: do not pile on
  end if;
  v_limit := coalesce(p_limit, (bulk_plan(p_stale)->'allowed'->>'profileSyncs')::integer);
  select array_agg(d.user_id order by d.rank) into v_due
  from due_profile_syncs(p_stale) d where d.rank <= v_limit;
  while v_total < coalesce(cardinality(v_due), 0) loop
    v_ids := v_due[v_total + 1 : v_total + p_chunk];
    select array_agg(jsonb_build_object('type', 'profile_sync', 'userId', u.id,
                                        'gameVersion', v.version, 'reason', 'scheduled')
                     order by i.n, v.n)
    into v_messages
    from unnest(v_ids) with ordinality as i(user_id, n)
    join users u on u.id = i.user_id
    cross join lateral unnest(u.sync_game_versions) with ordinality as v(version, n);
    if v_messages is not null then
      perform pgmq.send_batch('profile_sync', v_messages);
    end if;
    update users set last_enqueued_at = now() where id = any (v_ids);
    v_total := v_total + cardinality(v_ids);
  end loop;
  return v_total;
end
$$;

-- Stale characters, the stalest and most active first, at most p_limit (left null: what the
-- plan leaves for them).
create or replace function public.enqueue_character_refreshes(
  p_limit integer default null, p_max_backlog integer default 50000
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_limit integer;
  v_ids bigint[];
  v_messages jsonb[];
begin
  if not job_lock('enqueue_character_refreshes') then
    return 0;  -- another run of this job is enqueuing right now
  end if;
  if (select count(*) from pgmq.q_character_refresh) >= p_max_backlog then
    return 0;
  end if;
  v_limit := coalesce(p_limit, (bulk_plan()->'allowed'->>'characterRefreshes')::integer);
  select array_agg(c.id), array_agg(refresh_message(c)) into v_ids, v_messages
  from (
    select c.* from due_character_refreshes() d join characters c on c.id = d.character_id
    order by d.overdue desc, d.last_login_at desc nulls last, c.id
    limit v_limit
  ) c;
  if v_ids is null then
    return 0;
  end if;
  perform pgmq.send_batch('character_refresh', v_messages);
  update characters set last_enqueued_at = now() where id = any (v_ids);
  return cardinality(v_ids);
end
$$;

-- Guild rosters that are due, the longest unsynced first, at most p_limit (left null: what
-- the plan leaves for them).
create or replace function public.enqueue_guild_rosters(
  p_stale interval default interval '20 hours', p_limit integer default null
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_limit integer;
  v_messages jsonb[];
begin
  if not job_lock('enqueue_guild_rosters') then
    return 0;  -- another run of this job is enqueuing right now
  end if;
  v_limit := coalesce(p_limit,
                      (bulk_plan(p_stale_rosters => p_stale)->'allowed'->>'guildRosters')::integer);
  select array_agg(roster_message(g) order by g.roster_synced_at nulls first, g.id)
  into v_messages
  from (select g.* from due_guild_rosters(p_stale) g
        order by g.roster_synced_at nulls first, g.id limit v_limit) g;
  if v_messages is null then
    return 0;
  end if;
  perform pgmq.send_batch('guild_roster', v_messages);
  return cardinality(v_messages);
end
$$;

-- The hourly scheduler run: plan one window, queue it, keep the plan for the status.
create or replace function public.enqueue_bulk_work()
returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_plan jsonb;
  v_profiles integer;
  v_rosters integer;
  v_characters integer;
begin
  if not job_lock('enqueue_bulk_work') then
    return 0;  -- another run of this job is planning right now
  end if;
  v_plan := bulk_plan();
  v_profiles := enqueue_profile_refreshes(
    p_limit => (v_plan->'allowed'->>'profileSyncs')::integer);
  v_rosters := enqueue_guild_rosters(p_limit => (v_plan->'allowed'->>'guildRosters')::integer);
  v_characters := enqueue_character_refreshes(
    p_limit => (v_plan->'allowed'->>'characterRefreshes')::integer);
  insert into bulk_plans (plan) values (v_plan || jsonb_build_object('enqueued',
    jsonb_build_object('profileSyncs', v_profiles, 'guildRosters', v_rosters,
                       'characterRefreshes', v_characters)));
  delete from bulk_plans where planned_at < now() - interval '7 days';
  delete from job_costs where hour < now() - interval '7 days';
  return v_profiles + v_rosters + v_characters;
end
$$;

-- The last run's plan, for /queue-consumer/status (null before the first run).
create or replace function public.bulk_plan_status()
returns jsonb
language sql stable security definer set search_path = public, pg_temp as $$
  select p.plan || jsonb_build_object('plannedAt', p.planned_at)
  from bulk_plans p order by p.id desc limit 1
$$;

create or replace function public.queue_status()
returns jsonb
language sql stable security definer set search_path = public, pg_temp as $$
  select queue_overview() || jsonb_build_object(
    'budget', budget_status(), 'pausedJobs', paused_jobs(), 'breaker', breaker_status(),
    'consumer', consumer_status(), 'prune', prune_status(), 'plan', bulk_plan_status())
$$;

select public.grant_to_service_role_only(
  'job_cost(text)',
  'due_profile_syncs(interval)',
  'due_guild_rosters(interval)',
  'due_character_refreshes(interval)',
  'bulk_plan(interval,interval)',
  'enqueue_profile_refreshes(interval,integer,integer,integer)',
  'enqueue_character_refreshes(integer,integer)',
  'enqueue_guild_rosters(interval,integer)',
  'enqueue_bulk_work()',
  'bulk_plan_status()',
  'queue_status()'
);

-- One scheduler run an hour plans the account syncs, rosters and characters together.
do $$
begin
  if to_regnamespace('cron') is not null then
    perform cron.unschedule(jobname) from cron.job
    where jobname in ('guild-sync-profile-refresh', 'guild-sync-character-refresh',
                      'guild-sync-guild-rosters');
    perform cron.schedule('guild-sync-bulk-work', '7 * * * *',
                          'select public.enqueue_bulk_work()');
  end if;
end
$$;
