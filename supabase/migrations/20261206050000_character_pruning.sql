-- Pruning (issue 18 item 6) and what the character and guild pages read (items 1 and 3).
--
-- Roster sync stores every member of every guild it reads, and nothing removed them: the
-- characters table grew with every guild ever seen. Now a character that belongs to no user and
-- was not seen in any synced guild roster for `p_after_days` days (CHARACTER_PRUNE_AFTER_DAYS,
-- default 90) is deleted, with its snapshots and its history, by a daily pg_cron job, in
-- bounded batches; a guild left with no member goes too. A user's characters, archived ones
-- included, are never pruned (`user_id is not null`).
--
-- "Seen in a roster" is `characters.last_seen_in_roster_at`, set by apply_guild_roster for
-- every member it lists and by touch_guild_roster (a roster answered 304: the same members) for
-- the guild's members. A character never seen in a roster counts from its creation.

alter table public.characters add column if not exists last_seen_in_roster_at timestamptz;

-- What was known before this column: members of a synced roster were seen at its last sync.
update public.characters c
set last_seen_in_roster_at = g.roster_synced_at
from public.guilds g
where g.id = c.guild_id and g.roster_synced_at is not null and c.last_seen_in_roster_at is null;

-- The prune's candidates, oldest sighting first, without reading users' characters.
create index if not exists characters_prune_candidates
  on public.characters ((coalesce(last_seen_in_roster_at, created_at)), id)
  where user_id is null;

-- Deleting a character checks every row that references it: index those references, or each
-- deleted character costs a scan of characters (transfer links) and of the sync items.
create index if not exists characters_transferred_to
  on public.characters (transferred_to) where transferred_to is not null;
create index if not exists characters_transferred_from
  on public.characters (transferred_from) where transferred_from is not null;
create index if not exists character_sync_items_character
  on public.character_sync_items (character_id);

-- One row per prune run: what `/queue-consumer/status` shows as the last prune.
create table if not exists public.prune_runs (
  id           bigint generated always as identity primary key,
  ran_at       timestamptz not null,
  after_days   integer     not null,
  characters   integer     not null,
  snapshots    integer     not null,
  history      integer     not null,
  guilds       integer     not null,
  batches      integer     not null,
  more         boolean     not null,
  duration_ms  numeric     not null
);
alter table public.prune_runs enable row level security;
revoke all on public.prune_runs from anon, authenticated;
grant all on public.prune_runs to service_role;

-- ---------------------------------------------------------------------------------------
-- The roster writers, now recording the sighting (latest body from
-- 20261201006000_character_history.sql, plus last_seen_in_roster_at).

create or replace function public.apply_guild_roster(
  p_guild_id bigint, p_members jsonb, p_last_modified timestamptz, p_member_count integer
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_previous text := set_history_source('roster');
  g guilds;
  v_ids bigint[];
  v_left integer;
begin
  select * into g from guilds where id = p_guild_id for update;
  if g.id is null then
    perform set_history_source(v_previous);
    return null;
  end if;
  with src as (
    select * from jsonb_to_recordset(p_members) as x(
      blizzard_id bigint, name text, realm_id int, realm_slug text, level int, class_id int,
      race_id int, faction text, rank int)
  ), up as (
    insert into characters as c (region, flavor, realm_id, realm_slug, blizzard_id, name,
      level, class_id, race_id, faction, guild_id, guild_rank, last_seen_in_roster_at)
    select g.region, g.flavor, realm_id, realm_slug, blizzard_id, name, level, class_id,
           race_id, faction, g.id, rank, now()
    from src
    on conflict (region, flavor, realm_id, blizzard_id) do update
      set name = excluded.name, realm_slug = excluded.realm_slug,
          level = coalesce(excluded.level, c.level),
          class_id = coalesce(excluded.class_id, c.class_id),
          race_id = coalesce(excluded.race_id, c.race_id),
          faction = coalesce(excluded.faction, c.faction),
          guild_id = excluded.guild_id, guild_rank = excluded.guild_rank,
          last_seen_in_roster_at = now(), updated_at = now()
    returning c.id
  )
  select coalesce(array_agg(id), '{}') into v_ids from up;
  update characters set guild_id = null, guild_rank = null, updated_at = now()
  where guild_id = g.id and not (id = any (v_ids));
  get diagnostics v_left = row_count;
  update guilds set roster_synced_at = now(), roster_last_modified = p_last_modified,
    member_count = coalesce(p_member_count, cardinality(v_ids)), updated_at = now()
  where id = g.id;
  perform set_history_source(v_previous);
  return jsonb_build_object('members', cardinality(v_ids), 'left', v_left);
end
$$;

-- A roster answered 304: its members are the same, so they were seen again.
create or replace function public.touch_guild_roster(p_guild_id bigint)
returns void language sql security definer set search_path = public, pg_temp as $$
  update guilds set roster_synced_at = now() where id = p_guild_id;
  update characters set last_seen_in_roster_at = now() where guild_id = p_guild_id;
$$;

-- ---------------------------------------------------------------------------------------
-- The prune

-- Deletes up to p_batch_size characters per batch and at most p_max_batches batches per call
-- (`more` says candidates were left for the next run), their snapshots and history first
-- (counted), then guilds with no member left (a day of grace, so a guild being created is not
-- raced), at most p_batch_size of them. One run at a time (a second one returns at once).
-- p_now is the run's clock (tests and the bench move it).
create or replace function public.prune_characters(
  p_after_days integer default 90, p_batch_size integer default 1000,
  p_max_batches integer default 50, p_now timestamptz default now()
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_started timestamptz := clock_timestamp();
  v_cutoff timestamptz;
  v_ids bigint[];
  v_n integer;
  v_characters integer := 0;
  v_snapshots integer := 0;
  v_history integer := 0;
  v_guilds integer := 0;
  v_batches integer := 0;
  v_more boolean := false;
  v_result jsonb;
begin
  if p_after_days is null or p_after_days < 1 then
    raise exception 'p_after_days must be at least 1' using errcode = '22023';
  end if;
  if p_batch_size is null or p_batch_size < 1 or p_max_batches is null or p_max_batches < 1 then
    raise exception 'p_batch_size and p_max_batches must be at least 1' using errcode = '22023';
  end if;
  if not pg_try_advisory_xact_lock(hashtext('guild_sync.prune_characters')) then
    return jsonb_build_object('skipped', 'a prune is already running');
  end if;
  v_cutoff := p_now - make_interval(days => p_after_days);

  loop
    if v_batches >= p_max_batches then
      v_more := exists (select 1 from characters c
                        where c.user_id is null
                          and coalesce(c.last_seen_in_roster_at, c.created_at) < v_cutoff);
      exit;
    end if;
    select coalesce(array_agg(s.id), '{}') into v_ids
    from (select c.id from characters c
          where c.user_id is null
            and coalesce(c.last_seen_in_roster_at, c.created_at) < v_cutoff
          order by coalesce(c.last_seen_in_roster_at, c.created_at), c.id
          limit p_batch_size
          for update skip locked) s;
    exit when cardinality(v_ids) = 0;
    v_batches := v_batches + 1;
    delete from character_snapshots where character_id = any (v_ids);
    get diagnostics v_n = row_count;
    v_snapshots := v_snapshots + v_n;
    delete from character_history where character_id = any (v_ids);
    get diagnostics v_n = row_count;
    v_history := v_history + v_n;
    delete from characters where id = any (v_ids);
    get diagnostics v_n = row_count;
    v_characters := v_characters + v_n;
    exit when cardinality(v_ids) < p_batch_size;
  end loop;

  delete from guilds g
  where g.id in (select x.id from guilds x
                 where coalesce(x.roster_synced_at, x.updated_at) < p_now - interval '1 day'
                   and not exists (select 1 from characters c where c.guild_id = x.id)
                 order by x.id
                 limit p_batch_size);
  get diagnostics v_guilds = row_count;

  v_result := jsonb_build_object(
    'at', p_now, 'afterDays', p_after_days, 'characters', v_characters,
    'snapshots', v_snapshots, 'history', v_history, 'guilds', v_guilds,
    'rowsRemoved', v_characters + v_snapshots + v_history + v_guilds,
    'batches', v_batches, 'more', v_more,
    'durationMs', round(extract(epoch from clock_timestamp() - v_started)::numeric * 1000, 1));
  insert into prune_runs (ran_at, after_days, characters, snapshots, history, guilds, batches,
                          more, duration_ms)
  values (p_now, p_after_days, v_characters, v_snapshots, v_history, v_guilds, v_batches,
          v_more, (v_result->>'durationMs')::numeric);
  delete from prune_runs where ran_at < p_now - interval '90 days';
  return v_result;
end
$$;

-- The last prune, for /queue-consumer/status (null before the first).
create or replace function public.prune_status()
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select (select jsonb_build_object(
            'at', r.ran_at, 'afterDays', r.after_days, 'characters', r.characters,
            'snapshots', r.snapshots, 'history', r.history, 'guilds', r.guilds,
            'rowsRemoved', r.characters + r.snapshots + r.history + r.guilds,
            'batches', r.batches, 'more', r.more, 'durationMs', r.duration_ms)
          from prune_runs r order by r.ran_at desc, r.id desc limit 1)
$$;

-- Latest body from 20261206010100_consumer_health.sql, plus the prune.
create or replace function public.queue_status()
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select queue_status_base() || jsonb_build_object(
    'budget', budget_status(), 'pausedJobs', paused_jobs(), 'breaker', breaker_status(),
    'consumer', consumer_status(), 'prune', prune_status())
$$;

-- ---------------------------------------------------------------------------------------
-- What the pages read

-- The guild page (latest body from 20261201007100_guild_page.sql) with, per member, when it
-- last logged in and was last seen in the roster, and whether it is the reader's own.
create or replace function public.guild_page(p_user_id uuid, p_guild_id bigint)
returns jsonb
language sql
stable
set search_path = public, pg_temp
as $$
  select jsonb_build_object(
    'id', g.id,
    'name', g.name,
    'realm', coalesce(g.realm_name, gr.name, g.realm_slug),
    'connectedRealmId', gr.connected_realm_id,
    'members', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', c.id,
               'name', c.name,
               'realm', coalesce(cr.name, c.realm_name, c.realm_slug),
               'level', c.level,
               'class', coalesce(c.class_name, wc.name),
               'rank', c.guild_rank,
               'lastLoginAt', c.last_login_at,
               'lastSeenInRosterAt', c.last_seen_in_roster_at,
               'mine', c.user_id is not distinct from p_user_id)
             order by c.guild_rank nulls last, c.name, c.id)
      from characters c
      left join wow_realms cr
        on (cr.region, cr.flavor, cr.id) = (c.region, c.flavor, c.realm_id)
      left join wow_classes wc on (wc.flavor, wc.id) = (c.flavor, c.class_id)
      where c.guild_id = g.id and c.is_active), '[]'::jsonb))
  from guilds g
  left join wow_realms gr on (gr.region, gr.flavor, gr.id) = (g.region, g.flavor, g.realm_id)
  where g.id = p_guild_id
    and exists (select 1 from characters mine
                where mine.guild_id = g.id and mine.user_id = p_user_id and mine.is_active)
$$;

-- The user's characters (latest body from 20261201006000_character_history.sql) with the
-- guild rank, for the character page's header.
create or replace function public.list_user_characters(p_user_id uuid)
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(jsonb_agg(character_ref(c) || jsonb_build_object(
    'realmSlug', c.realm_slug, 'region', c.region, 'flavor', c.flavor, 'level', c.level,
    'class', c.class_name, 'race', c.race_name, 'faction', c.faction,
    'itemLevel', c.equipped_item_level, 'avatarUrl', c.avatar_url,
    'guild', case when g.id is null then null
                  else jsonb_build_object('id', g.id, 'name', g.name, 'realm', g.realm_slug,
                                          'rank', c.guild_rank) end,
    'isActive', c.is_active, 'enrichedAt', c.enriched_at,
    'transferredTo', c.transferred_to, 'transferredFrom', c.transferred_from,
    'connectedRealmId', r.connected_realm_id) order by c.flavor, c.name, c.id), '[]')
  from characters c
  left join guilds g on g.id = c.guild_id
  left join wow_realms r on r.region = c.region and r.flavor = c.flavor and r.id = c.realm_id
  where c.user_id = p_user_id
$$;

select public.grant_to_service_role_only(
  'apply_guild_roster(bigint,jsonb,timestamptz,integer)',
  'touch_guild_roster(bigint)',
  'prune_characters(integer,integer,integer,timestamptz)',
  'prune_status()',
  'queue_status()',
  'guild_page(uuid,bigint)',
  'list_user_characters(uuid)'
);

do $$
begin
  if to_regnamespace('cron') is null then
    return;
  end if;
  perform cron.schedule('guild-sync-prune-characters', '53 4 * * *',
                        'select public.prune_characters()');
end
$$;
