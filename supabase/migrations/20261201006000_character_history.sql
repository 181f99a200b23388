-- Character history and transfers (issue 10, items 1 and 2).
--
-- History is written by the database: a trigger on `characters` compares the old and new row
-- of every update and records one `character_history` row per tracked field that changed, in
-- the transaction that changes the character, so nothing is missed or recorded twice (a
-- message delivered twice writes the same values the second time: no change, no row). The
-- path that made the change comes from the transaction-local setting `guild_sync.source`
-- ('sync', 'refresh' or 'roster'; 'sync' when unset), which the writer functions set.
--
-- What counts as a change (the first sighting, an insert, records nothing):
--   name, level, itemLevel (equipped), faction, race: a known value that became another one
--     (an unknown value being filled in, e.g. a roster member's first item level, is not one);
--   realm: another realm slug, or another known realm name;
--   guild: another guild or none, once the guild is known (the character was enriched once or
--     had a guild); rank: another rank in the same guild (a new guild brings its rank along);
--   active: archived or reactivated;
--   transfer: the account sync linked an archived character to a new one (below).
--
-- Transfers: when an account sync archives a character and, in the same sync, a character new
-- to the account appears with the same class on another realm of the same region and flavor,
-- at least as high in level, the two rows are linked (characters.transferred_to on the old
-- row, transferred_from on the new one) and ONE history row is written, on the new character:
-- {field: 'transfer', from: <old row id>, to: <new row id>}. The old character's history shows
-- the same row (character_history() reads transfers from both ends). Never across accounts:
-- both rows belong to the user whose account was read.

alter table public.characters
  add column if not exists transferred_to bigint references public.characters (id)
    on delete set null,
  add column if not exists transferred_from bigint references public.characters (id)
    on delete set null;

create table if not exists public.character_history (
  id            bigint generated always as identity primary key,
  character_id  bigint      not null references public.characters (id) on delete cascade,
  field         text        not null check (field in ('name', 'realm', 'level', 'itemLevel',
                  'guild', 'rank', 'faction', 'race', 'active', 'transfer')),
  from_value    jsonb,
  to_value      jsonb,
  observed_at   timestamptz not null default now(),
  source        text        not null check (source in ('sync', 'refresh', 'roster'))
);
create index if not exists character_history_by_character
  on public.character_history (character_id, observed_at desc, id desc);

alter table public.character_history enable row level security;
revoke insert, update, delete, truncate, references, trigger on public.character_history
  from anon, authenticated;
revoke all on public.character_history from anon;
grant select on public.character_history to authenticated;
grant all on public.character_history to service_role;
drop policy if exists character_history_read_own on public.character_history;
create policy character_history_read_own on public.character_history for select
  to authenticated
  using (exists (select 1 from public.characters c
                 where c.id = character_history.character_id
                   and c.user_id = (select auth.uid())));

-- ---------------------------------------------------------------------------------------
-- The source of the changes of this transaction, and setting it around a writer's work.

create or replace function public.history_source()
returns text language sql stable set search_path = public, pg_temp as $$
  select case when s in ('sync', 'refresh', 'roster') then s else 'sync' end
  from coalesce(current_setting('guild_sync.source', true), '') as s
$$;

-- Sets the source for the rest of the transaction; returns the previous one, so a writer can
-- put it back when it is done (a transaction that calls two writers keeps each one's source).
create or replace function public.set_history_source(p_source text)
returns text language plpgsql set search_path = public, pg_temp as $$
declare
  v_previous text := coalesce(current_setting('guild_sync.source', true), '');
begin
  perform set_config('guild_sync.source', coalesce(p_source, ''), true);
  return v_previous;
end
$$;

create or replace function public.guild_name(p_guild_id bigint)
returns text language sql stable security definer set search_path = public, pg_temp as $$
  select name from guilds where id = p_guild_id
$$;

create or replace function public.race_label(p_flavor text, p_race_id integer, p_fallback text)
returns text language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce((select name from wow_races where flavor = p_flavor and id = p_race_id),
                  p_fallback, p_race_id::text)
$$;

-- ---------------------------------------------------------------------------------------
-- The trigger

create or replace function public.record_character_changes()
returns trigger language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_source text := history_source();
  v_changes jsonb := '[]';
begin
  if old.name is not null and new.name is distinct from old.name then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('name', old.name, new.name));
  end if;
  if new.realm_slug is distinct from old.realm_slug
     or (old.realm_name is not null and new.realm_name is not null
         and new.realm_name is distinct from old.realm_name) then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('realm',
      coalesce(old.realm_name, old.realm_slug), coalesce(new.realm_name, new.realm_slug)));
  end if;
  if old.level is not null and new.level is distinct from old.level then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('level', old.level, new.level));
  end if;
  if old.equipped_item_level is not null
     and new.equipped_item_level is distinct from old.equipped_item_level then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('itemLevel',
      old.equipped_item_level, new.equipped_item_level));
  end if;
  if new.guild_id is distinct from old.guild_id
     and (old.enriched_at is not null or old.guild_id is not null) then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('guild',
      guild_name(old.guild_id), guild_name(new.guild_id)));
  end if;
  if new.guild_id is not distinct from old.guild_id and old.guild_rank is not null
     and new.guild_rank is not null and new.guild_rank <> old.guild_rank then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('rank',
      old.guild_rank, new.guild_rank));
  end if;
  if old.faction is not null and new.faction is distinct from old.faction then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('faction',
      old.faction, new.faction));
  end if;
  if old.race_id is not null and new.race_id is distinct from old.race_id then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('race',
      race_label(old.flavor, old.race_id, null),
      race_label(new.flavor, new.race_id,
                 case when new.race_name is distinct from old.race_name then new.race_name end)));
  end if;
  if new.is_active is distinct from old.is_active then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('active',
      old.is_active, new.is_active));
  end if;
  if old.transferred_from is null and new.transferred_from is not null then
    v_changes := v_changes || jsonb_build_array(jsonb_build_array('transfer',
      new.transferred_from, new.id));
  end if;
  insert into character_history (character_id, field, from_value, to_value, source)
  select new.id, c->>0, c->1, c->2, v_source
  from jsonb_array_elements(v_changes) with ordinality as t(c, n)
  order by n;
  return null;
end
$$;

drop trigger if exists characters_history on public.characters;
create trigger characters_history
  after update on public.characters
  for each row
  when ((old.name, old.realm_slug, old.realm_name, old.level, old.equipped_item_level,
         old.guild_id, old.guild_rank, old.faction, old.race_id, old.is_active,
         old.transferred_from)
        is distinct from
        (new.name, new.realm_slug, new.realm_name, new.level, new.equipped_item_level,
         new.guild_id, new.guild_rank, new.faction, new.race_id, new.is_active,
         new.transferred_from))
  execute function public.record_character_changes();

-- ---------------------------------------------------------------------------------------
-- The writers: the landed bodies, with their source set, and transfers linked on an account
-- sync.

create or replace function public.upsert_account_characters(
  p_user_id uuid, p_region text, p_flavor text, p_characters jsonb, p_archive_missing boolean
) returns bigint[]
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_previous text := set_history_source('sync');
  v_known bigint[];
  v_ids bigint[];
  v_archived bigint[] := '{}';
  a characters;
  v_new bigint;
begin
  -- The account's characters before this sync (archived ones included): a listed character
  -- not among them is new to the account (created now, or known before only from a roster).
  select coalesce(array_agg(id), '{}') into v_known from characters
  where user_id = p_user_id and region = p_region and flavor = p_flavor;

  with src as (
    select * from jsonb_to_recordset(p_characters) as x(
      blizzard_id bigint, name text, realm_id int, realm_slug text, realm_name text,
      level int, class_id int, class_name text, race_id int, race_name text, faction text,
      gender text)
  ), up as (
    insert into characters as c (user_id, region, flavor, realm_id, realm_slug, realm_name,
      blizzard_id, name, level, class_id, class_name, race_id, race_name, faction, gender)
    select p_user_id, p_region, p_flavor, realm_id, realm_slug, realm_name, blizzard_id, name,
           level, class_id, class_name, race_id, race_name, faction, gender
    from src
    on conflict (region, flavor, realm_id, blizzard_id) do update
      set user_id = excluded.user_id, name = excluded.name, realm_slug = excluded.realm_slug,
          realm_name = coalesce(excluded.realm_name, c.realm_name), level = excluded.level,
          class_id = excluded.class_id, class_name = coalesce(excluded.class_name, c.class_name),
          race_id = excluded.race_id, race_name = coalesce(excluded.race_name, c.race_name),
          faction = coalesce(excluded.faction, c.faction),
          gender = coalesce(excluded.gender, c.gender),
          is_active = true, archived_at = null, updated_at = now()
    returning c.id
  )
  select coalesce(array_agg(id order by id), '{}') into v_ids from up;

  if p_archive_missing then
    with gone as (
      update characters set is_active = false, archived_at = now(), updated_at = now()
      where user_id = p_user_id and region = p_region and flavor = p_flavor and is_active
        and not (id = any (v_ids))
      returning id
    )
    select coalesce(array_agg(id), '{}') into v_archived from gone;
  end if;

  -- Transfers: each character archived now, highest level first, takes the closest match
  -- among the characters new to the account (same class, another realm, at least its level;
  -- the same name first).
  for a in
    select * from characters
    where id = any (v_archived) and transferred_to is null and class_id is not null
    order by level desc nulls last, id
  loop
    select n.id into v_new from characters n
    where n.id = any (v_ids) and not (n.id = any (v_known)) and n.user_id = p_user_id
      and n.transferred_from is null and n.class_id = a.class_id and n.realm_id <> a.realm_id
      and coalesce(n.level, 0) >= coalesce(a.level, 0)
    order by (n.name = a.name) desc, coalesce(n.level, 0) - coalesce(a.level, 0), n.id
    limit 1;
    if v_new is not null then
      update characters set transferred_to = v_new, updated_at = now() where id = a.id;
      update characters set transferred_from = a.id, updated_at = now() where id = v_new;
    end if;
  end loop;

  update users set last_profile_sync_at = now(), updated_at = now() where id = p_user_id;
  perform set_history_source(v_previous);
  return v_ids;
end
$$;

create or replace function public.record_character_refresh(
  p_character_id bigint, p_result text, p_data jsonb default null
) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_previous text := set_history_source('refresh');
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
  perform set_history_source(v_previous);
end
$$;

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
  perform set_history_source(v_previous);
  return jsonb_build_object('members', cardinality(v_ids), 'left', v_left);
end
$$;

-- ---------------------------------------------------------------------------------------
-- Reading it

-- A character's changes, newest first: null when the character is not the user's (the API
-- answers 404). A transfer shows on both of its characters.
create or replace function public.character_history(
  p_user_id uuid, p_character_id bigint, p_since timestamptz default null,
  p_limit integer default 100
) returns jsonb
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  c characters;
begin
  select * into c from characters where id = p_character_id;
  if c.id is null or (p_user_id is not null and c.user_id is distinct from p_user_id) then
    return null;
  end if;
  return jsonb_build_object(
    'characterId', c.id,
    'changes', (
      select coalesce(jsonb_agg(jsonb_build_object(
               'field', h.field, 'from', h.from_value, 'to', h.to_value,
               'observedAt', h.observed_at, 'source', h.source)
             order by h.observed_at desc, h.id desc), '[]')
      from (
        select * from character_history h
        where (h.character_id = c.id
               or (h.character_id = c.transferred_to and h.field = 'transfer'
                   and h.from_value = to_jsonb(c.id)))
          and (p_since is null or h.observed_at >= p_since)
        order by h.observed_at desc, h.id desc
        limit greatest(least(coalesce(p_limit, 100), 500), 1)
      ) h));
end
$$;

-- The user's characters, as landed, with their transfer links and connected-realm group.
create or replace function public.list_user_characters(p_user_id uuid)
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(jsonb_agg(character_ref(c) || jsonb_build_object(
    'realmSlug', c.realm_slug, 'region', c.region, 'flavor', c.flavor, 'level', c.level,
    'class', c.class_name, 'race', c.race_name, 'faction', c.faction,
    'itemLevel', c.equipped_item_level, 'avatarUrl', c.avatar_url,
    'guild', case when g.id is null then null
                  else jsonb_build_object('id', g.id, 'name', g.name, 'realm', g.realm_slug) end,
    'isActive', c.is_active, 'enrichedAt', c.enriched_at,
    'transferredTo', c.transferred_to, 'transferredFrom', c.transferred_from,
    'connectedRealmId', r.connected_realm_id) order by c.flavor, c.name, c.id), '[]')
  from characters c
  left join guilds g on g.id = c.guild_id
  left join wow_realms r on r.region = c.region and r.flavor = c.flavor and r.id = c.realm_id
  where c.user_id = p_user_id
$$;

select public.grant_to_service_role_only(
  'history_source()',
  'set_history_source(text)',
  'guild_name(bigint)',
  'race_label(text,integer,text)',
  'record_character_changes()',
  'upsert_account_characters(uuid,text,text,jsonb,boolean)',
  'record_character_refresh(bigint,text,jsonb)',
  'apply_guild_roster(bigint,jsonb,timestamptz,integer)',
  'character_history(uuid,bigint,timestamptz,integer)',
  'list_user_characters(uuid)'
);
