-- Static game data: classes, races (with faction) and realms, per game flavor.
-- Written only by the service role through public.upsert_static_data (one round trip, one
-- transaction for a whole sync); readable by everyone.

create table if not exists public.wow_classes (
  flavor      text        not null,
  id          integer     not null,
  name        text        not null,
  updated_at  timestamptz not null default now(),
  primary key (flavor, id)
);

create table if not exists public.wow_races (
  flavor          text        not null,
  id              integer     not null,
  name            text        not null,
  faction         text        not null,
  is_allied_race  boolean,
  is_selectable   boolean,
  updated_at      timestamptz not null default now(),
  primary key (flavor, id)
);

create table if not exists public.wow_realms (
  region              text        not null,
  flavor              text        not null,
  id                  integer     not null,
  slug                text        not null,
  name                text        not null,
  category            text,
  timezone            text,
  type                text,
  locale              text,
  connected_realm_id  integer,
  is_tournament       boolean,
  updated_at          timestamptz not null default now(),
  primary key (region, flavor, id),
  unique (region, flavor, slug)
);

alter table public.wow_classes enable row level security;
alter table public.wow_races enable row level security;
alter table public.wow_realms enable row level security;

grant select on public.wow_classes, public.wow_races, public.wow_realms to anon, authenticated;
grant all on public.wow_classes, public.wow_races, public.wow_realms to service_role;

drop policy if exists wow_classes_read on public.wow_classes;
create policy wow_classes_read on public.wow_classes for select to anon, authenticated using (true);
drop policy if exists wow_races_read on public.wow_races;
create policy wow_races_read on public.wow_races for select to anon, authenticated using (true);
drop policy if exists wow_realms_read on public.wow_realms;
create policy wow_realms_read on public.wow_realms for select to anon, authenticated using (true);

-- p_data: [{region, flavor, gameVersion, classes: [...], races: [...], realms: [...]}]
-- Returns one object per entry with {inserted, updated, unchanged} per table. A row whose
-- values did not change is not touched (updated_at stays), so a second run changes nothing.
create or replace function public.upsert_static_data(p_data jsonb)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_temp
as $$
declare
  entry jsonb;
  result jsonb := '[]'::jsonb;
  n_classes int; n_class_ins int; n_races int; n_race_ins int; n_realms int; n_realm_ins int;
begin
  for entry in select * from jsonb_array_elements(p_data) loop
    with src as (
      select (c->>'id')::int as id, c->>'name' as name
      from jsonb_array_elements(entry->'classes') c
    ), up as (
      insert into wow_classes as t (flavor, id, name)
      select entry->>'flavor', id, name from src
      on conflict (flavor, id) do update
        set name = excluded.name, updated_at = now()
        where t.name is distinct from excluded.name
      returning (xmax = 0) as inserted
    )
    select count(*), count(*) filter (where inserted) into n_classes, n_class_ins from up;

    with src as (
      select (r->>'id')::int as id, r->>'name' as name, r->>'faction' as faction,
             (r->>'is_allied_race')::boolean as is_allied_race,
             (r->>'is_selectable')::boolean as is_selectable
      from jsonb_array_elements(entry->'races') r
    ), up as (
      insert into wow_races as t (flavor, id, name, faction, is_allied_race, is_selectable)
      select entry->>'flavor', id, name, faction, is_allied_race, is_selectable from src
      on conflict (flavor, id) do update
        set name = excluded.name, faction = excluded.faction,
            is_allied_race = excluded.is_allied_race, is_selectable = excluded.is_selectable,
            updated_at = now()
        where (t.name, t.faction, t.is_allied_race, t.is_selectable)
              is distinct from (excluded.name, excluded.faction, excluded.is_allied_race,
                                excluded.is_selectable)
      returning (xmax = 0) as inserted
    )
    select count(*), count(*) filter (where inserted) into n_races, n_race_ins from up;

    with src as (
      select (r->>'id')::int as id, r->>'slug' as slug, r->>'name' as name,
             r->>'category' as category, r->>'timezone' as timezone, r->>'type' as type,
             r->>'locale' as locale, (r->>'connected_realm_id')::int as connected_realm_id,
             (r->>'is_tournament')::boolean as is_tournament
      from jsonb_array_elements(entry->'realms') r
    ), up as (
      insert into wow_realms as t (region, flavor, id, slug, name, category, timezone, type,
                                   locale, connected_realm_id, is_tournament)
      select entry->>'region', entry->>'flavor', id, slug, name, category, timezone, type,
             locale, connected_realm_id, is_tournament
      from src
      on conflict (region, flavor, id) do update
        set slug = excluded.slug, name = excluded.name, category = excluded.category,
            timezone = excluded.timezone, type = excluded.type, locale = excluded.locale,
            connected_realm_id = excluded.connected_realm_id,
            is_tournament = excluded.is_tournament, updated_at = now()
        where (t.slug, t.name, t.category, t.timezone, t.type, t.locale, t.connected_realm_id,
               t.is_tournament)
              is distinct from (excluded.slug, excluded.name, excluded.category,
                                excluded.timezone, excluded.type, excluded.locale,
                                excluded.connected_realm_id, excluded.is_tournament)
      returning (xmax = 0) as inserted
    )
    select count(*), count(*) filter (where inserted) into n_realms, n_realm_ins from up;

    result := result || jsonb_build_array(jsonb_build_object(
      'region', entry->>'region',
      'gameVersion', entry->>'gameVersion',
      'classes', jsonb_build_object(
        'total', jsonb_array_length(entry->'classes'), 'inserted', n_class_ins,
        'updated', n_classes - n_class_ins),
      'races', jsonb_build_object(
        'total', jsonb_array_length(entry->'races'), 'inserted', n_race_ins,
        'updated', n_races - n_race_ins),
      'realms', jsonb_build_object(
        'total', jsonb_array_length(entry->'realms'), 'inserted', n_realm_ins,
        'updated', n_realms - n_realm_ins)
    ));
  end loop;
  return result;
end
$$;

revoke execute on function public.upsert_static_data(jsonb) from public, anon, authenticated;
grant execute on function public.upsert_static_data(jsonb) to service_role;
