-- The job bodies, each defined once with its lock inline (issue 17): earlier migrations renamed
-- four bodies to *_unlocked and generated locking wrappers in front of them with format(); a
-- reader now finds each job's current body under its own name (here, and in
-- sql/schema/functions/, which `make schema` writes from the database).
--
-- Manual runs of a job body and pg_cron's run of the same job cannot enqueue twice: each body
-- takes a transaction-level advisory lock (job_lock) and does nothing when another run holds it.

drop function if exists public.enqueue_profile_refreshes(interval, integer, integer, integer);
drop function if exists public.enqueue_character_refreshes(integer, integer);
drop function if exists public.enqueue_static_sync();
drop function if exists public.enqueue_guild_rosters(interval);
drop function if exists public.enqueue_static_sync_unlocked();

-- The daily account job: 'daily' users with a valid token and a stale account sync, one
-- message per listed game version; in chunks of users, so memory stays bounded.
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
  if not job_lock('enqueue_profile_refreshes') then
    return 0;  -- another run of this job is enqueuing right now
  end if;
  if (select count(*) from pgmq.q_profile_sync) >= p_max_backlog then
    return 0;  -- the consumers are behind: do not pile on
  end if;
  v_room := p_limit;
  -- In chunks of users, so memory stays bounded however many are due.
  while v_room - v_total > 0 loop
    select array_agg(distinct u.id),
           array_agg(jsonb_build_object('type', 'profile_sync', 'userId', u.id,
                                        'gameVersion', v.version, 'reason', 'scheduled')
                     order by u.n, v.n)
    into v_ids, v_messages
    from (
      select u.id, u.sync_game_versions,
             row_number() over (order by u.last_profile_sync_at nulls first, u.id) as n
      from users u
      where u.auto_sync = 'daily' and u.login_state = 'active' and u.token_expires_at > now()
        and (u.last_profile_sync_at is null or u.last_profile_sync_at < now() - p_stale)
        and not exists (select 1 from pgmq.q_profile_sync q
                        where q.message->>'userId' = u.id::text)
      order by u.last_profile_sync_at nulls first, u.id
      limit least(p_chunk, v_room - v_total)
    ) u
    cross join lateral unnest(u.sync_game_versions) with ordinality as v(version, n);
    exit when v_ids is null;
    perform pgmq.send_batch('profile_sync', v_messages);
    update users set last_enqueued_at = now() where id = any (v_ids);
    v_total := v_total + cardinality(v_ids);
  end loop;
  return v_total;
end
$$;

-- Stale characters, the most active first: those of users whose auto-sync is not off, and the
-- roster-kept ones (scheduled_refresh_wanted).
create or replace function public.enqueue_character_refreshes(
  p_limit integer default 5000, p_max_backlog integer default 50000
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_ids bigint[];
  v_messages jsonb[];
begin
  if not job_lock('enqueue_character_refreshes') then
    return 0;  -- another run of this job is enqueuing right now
  end if;
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
      and scheduled_refresh_wanted(c)
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
  if not job_lock('enqueue_static_sync') then
    return 0;  -- another run of this job is enqueuing right now
  end if;
  if exists (select 1 from pgmq.q_static_data) then
    return 0;
  end if;
  perform pgmq.send('static_data', jsonb_build_object('type', 'static_data'));
  return 1;
end
$$;

-- Daily: the rosters of every guild with a registered member whose auto-sync is not off.
create or replace function public.enqueue_guild_rosters(
  p_stale interval default interval '20 hours'
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_messages jsonb[];
begin
  if not job_lock('enqueue_guild_rosters') then
    return 0;  -- another run of this job is enqueuing right now
  end if;
  select array_agg(roster_message(g)) into v_messages
  from guilds g
  where exists (select 1 from characters c join users u on u.id = c.user_id
                where c.guild_id = g.id and u.auto_sync <> 'off')
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

drop function public.enqueue_profile_refreshes_unlocked(interval, integer, integer, integer);
drop function public.enqueue_character_refreshes_unlocked(integer, integer);
drop function public.enqueue_guild_rosters_unlocked(interval);

select public.grant_to_service_role_only(
  'enqueue_profile_refreshes(interval,integer,integer,integer)',
  'enqueue_character_refreshes(integer,integer)',
  'enqueue_static_sync()',
  'enqueue_guild_rosters(interval)'
);
