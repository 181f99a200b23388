-- Auto-sync preferences (issue 10, item 5): per user, `auto_sync` ('off', 'on_login' or
-- 'daily'; default 'on_login') and `sync_game_versions` (default {retail}).
--
--   * the login's first sync: none when 'off'; otherwise ONE, for the first listed game
--     version (a login opens one session the user watches; the job skips a login sync once
--     the user started one, so one per version would be dropped anyway);
--   * the scheduled account sync (enqueue_profile_refreshes): 'daily' users only, one message
--     per listed game version, while their Battle.net token is valid. The job now runs hourly
--     (still once a day per user: only accounts synced more than 20 hours ago are due) so a
--     user's daily sync falls inside the ~24 h their token lives, whatever the hour of login;
--   * the stale-character refresh (enqueue_character_refreshes, app token): skips the
--     characters of 'off' users, except "roster-kept" ones: characters of no user, and those
--     in a guild where ANOTHER user with auto-sync not 'off' has a character (that guild's
--     roster is refreshed for them, and its officers follow the members' item level);
--   * guild rosters (enqueue_guild_rosters): guilds with a character of a user whose auto-sync
--     is not 'off'.

alter table public.users
  add column if not exists auto_sync text not null default 'on_login'
    check (auto_sync in ('off', 'on_login', 'daily')),
  add column if not exists sync_game_versions text[] not null default '{retail}'
    check (cardinality(sync_game_versions) between 1 and 10);

-- When the next scheduled account sync can happen, or why none can: {nextSyncAt, reason}.
-- reason: 'auto_sync_off', 'on_login' (no scheduled sync: the next login syncs),
-- 'login_required' (the Battle.net login expired or was revoked), 'login_expires_first'
-- (the next run would come after the login expires: log in again), null with a time.
create or replace function public.next_account_sync(u public.users)
returns jsonb language plpgsql stable set search_path = public, pg_temp as $$
declare
  v_due timestamptz;
  v_run timestamptz;
begin
  if u.auto_sync = 'off' then
    return jsonb_build_object('nextSyncAt', null, 'reason', 'auto_sync_off');
  elsif u.auto_sync = 'on_login' then
    return jsonb_build_object('nextSyncAt', null, 'reason', 'on_login');
  elsif u.login_state <> 'active' or u.token_expires_at is null or u.token_expires_at <= now() then
    return jsonb_build_object('nextSyncAt', null, 'reason', 'login_required');
  end if;
  -- due 20 hours after the last account sync; the job that queues it (guild-sync-bulk-work,
  -- 20261206080000) runs at minute 7 of every hour
  v_due := greatest(now(), coalesce(u.last_profile_sync_at + interval '20 hours', now()));
  v_run := date_trunc('hour', v_due) + interval '7 minutes';
  if v_run < v_due then
    v_run := v_run + interval '1 hour';
  end if;
  if v_run >= u.token_expires_at then
    return jsonb_build_object('nextSyncAt', null, 'reason', 'login_expires_first');
  end if;
  return jsonb_build_object('nextSyncAt', v_run, 'reason', null);
end
$$;

create or replace function public.sync_preferences_json(u public.users)
returns jsonb language sql stable set search_path = public, pg_temp as $$
  select jsonb_build_object('autoSync', u.auto_sync,
                            'gameVersions', to_jsonb(u.sync_game_versions))
         || next_account_sync(u)
$$;

create or replace function public.get_sync_preferences(p_user_id uuid)
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select sync_preferences_json(u) from users u where u.id = p_user_id
$$;

-- Null for an unknown user. The service validates the values (the checks are the backstop).
create or replace function public.set_sync_preferences(
  p_user_id uuid, p_auto_sync text, p_game_versions text[]
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  u users;
begin
  update users set auto_sync = p_auto_sync,
    sync_game_versions = (select array_agg(v order by n)
                          from (select v, min(n) as n
                                from unnest(p_game_versions) with ordinality as t(v, n)
                                group by v) d),
    updated_at = now()
  where id = p_user_id
  returning * into u;
  if u.id is null then
    return null;
  end if;
  return sync_preferences_json(u);
end
$$;

-- Login: as landed, with the first sync as the preferences say.
create or replace function public.upsert_login(
  p_battlenet_id bigint, p_battletag text, p_region text, p_ciphertext text, p_key_id text,
  p_expires_at timestamptz, p_scopes text[], p_sync_queue text default 'character_sync',
  p_game_version text default null
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  u users;
begin
  insert into users (battlenet_id, battletag, region, login_state, token_expires_at,
                     token_scopes, last_login_at)
  values (p_battlenet_id, p_battletag, p_region, 'active', p_expires_at,
          coalesce(p_scopes, '{}'), now())
  on conflict (battlenet_id) do update
    set battletag = excluded.battletag, region = excluded.region, login_state = 'active',
        token_expires_at = excluded.token_expires_at, token_scopes = excluded.token_scopes,
        last_login_at = now(), updated_at = now()
  returning * into u;
  insert into battlenet_tokens (user_id, ciphertext, key_id, expires_at, scopes)
  values (u.id, p_ciphertext, p_key_id, p_expires_at, coalesce(p_scopes, '{}'))
  on conflict (user_id) do update
    set ciphertext = excluded.ciphertext, key_id = excluded.key_id,
        expires_at = excluded.expires_at, scopes = excluded.scopes, updated_at = now();
  if p_sync_queue is not null and u.auto_sync <> 'off' then
    perform pgmq.send(p_sync_queue, jsonb_build_object(
      'type', 'profile_sync', 'userId', u.id,
      'gameVersion', coalesce(p_game_version, u.sync_game_versions[1], 'retail'),
      'reason', 'login'));
    update users set last_enqueued_at = now() where id = u.id;
  end if;
  return jsonb_build_object('id', u.id, 'battlenetId', u.battlenet_id,
                            'battletag', u.battletag, 'region', u.region);
end
$$;

-- The daily account job: 'daily' users with a valid token and a stale account sync, one
-- message per listed game version.
create or replace function public.enqueue_profile_refreshes_unlocked(
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

-- Characters refreshed on schedule: those of users whose auto-sync is not off, and the
-- roster-kept ones (see the header).
create or replace function public.scheduled_refresh_wanted(c public.characters)
returns boolean language sql stable security definer set search_path = public, pg_temp as $$
  select c.user_id is null
      or exists (select 1 from users u where u.id = c.user_id and u.auto_sync <> 'off')
      or (c.guild_id is not null and exists (
            select 1 from characters m join users u on u.id = m.user_id
            where m.guild_id = c.guild_id and m.user_id <> c.user_id
              and u.auto_sync <> 'off'))
$$;

create or replace function public.enqueue_character_refreshes_unlocked(
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

create or replace function public.enqueue_guild_rosters_unlocked(
  p_stale interval default interval '20 hours'
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_messages jsonb[];
begin
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

select public.grant_to_service_role_only(
  'next_account_sync(public.users)',
  'sync_preferences_json(public.users)',
  'get_sync_preferences(uuid)',
  'set_sync_preferences(uuid,text,text[])',
  'upsert_login(bigint,text,text,text,text,timestamptz,text[],text,text)',
  'enqueue_profile_refreshes_unlocked(interval,integer,integer,integer)',
  'scheduled_refresh_wanted(public.characters)',
  'enqueue_character_refreshes_unlocked(integer,integer)',
  'enqueue_guild_rosters_unlocked(interval)'
);

-- The account job hourly (each user still at most once a day): see the header.
do $$
begin
  if to_regnamespace('cron') is not null then
    perform cron.schedule('guild-sync-profile-refresh', '17 * * * *',
                          'select public.enqueue_profile_refreshes()');
  end if;
end
$$;
