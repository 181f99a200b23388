-- Gear and talent snapshots (issue 10, DESIGN section 11).
--
-- character_snapshots: one row per observed content of a kind ('equipment' or 'talents'); a
--   content equal to the character's newest one of that kind (same sha256 of its jsonb text,
--   which jsonb keeps in one canonical key order) is not stored again.
-- character_snapshot_sources: per character and kind, the endpoint's own Last-Modified (sent
--   back as If-Modified-Since) and the profile's Last-Modified when that kind was last
--   fetched (a profile that has not moved since is not fetched again).
-- Who reads: a character's owner, and a user with an active character in the character's
-- guild (guildmates); anyone else sees nothing (the API answers 404).

create table if not exists public.character_snapshots (
  id            bigint generated always as identity primary key,
  character_id  bigint      not null references public.characters (id) on delete cascade,
  kind          text        not null check (kind in ('equipment', 'talents')),
  taken_at      timestamptz not null default now(),
  content_hash  text        not null,
  item_level    integer,
  spec          text,
  content       jsonb       not null
);
create index if not exists character_snapshots_newest
  on public.character_snapshots (character_id, kind, taken_at desc, id desc);

create table if not exists public.character_snapshot_sources (
  character_id      bigint      not null references public.characters (id) on delete cascade,
  kind              text        not null check (kind in ('equipment', 'talents')),
  last_modified     timestamptz,
  profile_modified  timestamptz,
  checked_at        timestamptz not null default now(),
  primary key (character_id, kind)
);

alter table public.character_snapshots enable row level security;
alter table public.character_snapshot_sources enable row level security;
revoke insert, update, delete, truncate, references, trigger
  on public.character_snapshots, public.character_snapshot_sources from anon, authenticated;
revoke all on public.character_snapshots, public.character_snapshot_sources from anon;
revoke all on public.character_snapshot_sources from authenticated;
grant select on public.character_snapshots to authenticated;
grant all on public.character_snapshots, public.character_snapshot_sources to service_role;

-- The one rule: may this user read this character's snapshots?
create or replace function public.character_readable_by(p_user_id uuid, p_character_id bigint)
returns boolean
language sql
stable
security definer
set search_path = public, pg_temp
as $$
  select p_user_id is not null and exists (
    select 1 from characters c
    where c.id = p_character_id
      and (c.user_id = p_user_id
           or (c.guild_id is not null
               and exists (select 1 from characters mine
                           where mine.user_id = p_user_id and mine.is_active
                             and mine.guild_id = c.guild_id))))
$$;
select public.grant_to_service_role_only('character_readable_by(uuid,bigint)');

-- The same rule for RLS, for the calling user only: in a schema the Data API does not expose,
-- so a client cannot ask it about another user.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

create or replace function private.reads_character_snapshots(p_character_id bigint)
returns boolean
language sql
stable
security definer
set search_path = public, pg_temp
as $$
  select public.character_readable_by(auth.uid(), p_character_id)
$$;
revoke execute on function private.reads_character_snapshots(bigint) from public, anon;
grant execute on function private.reads_character_snapshots(bigint) to authenticated, service_role;

drop policy if exists character_snapshots_read on public.character_snapshots;
create policy character_snapshots_read on public.character_snapshots for select to authenticated
  using (private.reads_character_snapshots(character_id));

-- { "equipment": {lastModified, profileModified}, "talents": {...} } (kinds never fetched left out)
create or replace function public.snapshot_sources(p_character_id bigint)
returns jsonb
language sql
stable
set search_path = public, pg_temp
as $$
  select coalesce(jsonb_object_agg(s.kind, jsonb_build_object(
           'lastModified', s.last_modified, 'profileModified', s.profile_modified)), '{}'::jsonb)
  from character_snapshot_sources s
  where s.character_id = p_character_id
$$;
select public.grant_to_service_role_only('snapshot_sources(bigint)');

-- p_entries: [{kind, profileModified, lastModified, content?, itemLevel?, spec?}]; an entry
-- without content (a 304) only moves the source. Answers {stored: [snapshot ids]}.
create or replace function public.record_character_snapshots(p_character_id bigint,
                                                             p_entries jsonb)
returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
  e        jsonb;
  v_hash   text;
  v_newest text;
  v_id     bigint;
  v_stored bigint[] := '{}';
begin
  -- One writer per character at a time (a message delivered twice).
  perform 1 from characters where id = p_character_id for update;
  if not found then
    return jsonb_build_object('stored', '[]'::jsonb);
  end if;
  for e in select * from jsonb_array_elements(coalesce(p_entries, '[]'::jsonb)) loop
    insert into character_snapshot_sources as s
      (character_id, kind, last_modified, profile_modified, checked_at)
    values (p_character_id, e->>'kind', (e->>'lastModified')::timestamptz,
            (e->>'profileModified')::timestamptz, now())
    on conflict (character_id, kind) do update
      set last_modified = coalesce(excluded.last_modified, s.last_modified),
          profile_modified = excluded.profile_modified,
          checked_at = excluded.checked_at;
    if jsonb_typeof(e->'content') = 'object' then
      v_hash := encode(sha256(convert_to((e->'content')::text, 'UTF8')), 'hex');
      select content_hash into v_newest from character_snapshots
      where character_id = p_character_id and kind = e->>'kind'
      order by taken_at desc, id desc limit 1;
      if v_newest is distinct from v_hash then
        insert into character_snapshots (character_id, kind, content_hash, item_level, spec,
                                         content)
        values (p_character_id, e->>'kind', v_hash, (e->>'itemLevel')::int, e->>'spec',
                e->'content')
        returning id into v_id;
        v_stored := v_stored || v_id;
      end if;
    end if;
  end loop;
  return jsonb_build_object('stored', to_jsonb(v_stored));
end
$$;
select public.grant_to_service_role_only('record_character_snapshots(bigint,jsonb)');

-- {characterId, kind, snapshots: [{id, takenAt, itemLevel?, spec?}]} newest first; null when
-- the user may not read the character.
create or replace function public.character_snapshots(p_user_id uuid, p_character_id bigint,
                                                      p_kind text)
returns jsonb
language sql
stable
set search_path = public, pg_temp
as $$
  select case when public.character_readable_by(p_user_id, p_character_id) then
    jsonb_build_object(
      'characterId', p_character_id,
      'kind', p_kind,
      'snapshots', coalesce((
        select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                 'id', s.id, 'takenAt', s.taken_at, 'itemLevel', s.item_level, 'spec', s.spec))
               order by s.taken_at desc, s.id desc)
        from character_snapshots s
        where s.character_id = p_character_id and s.kind = p_kind), '[]'::jsonb))
  end
$$;
select public.grant_to_service_role_only('character_snapshots(uuid,bigint,text)');

-- One whole snapshot: {id, kind, takenAt, items} or {id, kind, takenAt, spec, loadoutCode,
-- talents}; null when unknown or not readable.
create or replace function public.character_snapshot(p_user_id uuid, p_character_id bigint,
                                                     p_snapshot_id bigint)
returns jsonb
language sql
stable
set search_path = public, pg_temp
as $$
  select jsonb_build_object('id', s.id, 'kind', s.kind, 'takenAt', s.taken_at)
         || case when s.kind = 'equipment'
                 then jsonb_build_object('items', coalesce(s.content->'items', '[]'::jsonb))
                 else jsonb_build_object('spec', s.content->'spec',
                                         'loadoutCode', s.content->'loadoutCode',
                                         'talents', coalesce(s.content->'talents', '[]'::jsonb))
            end
  from character_snapshots s
  where s.id = p_snapshot_id and s.character_id = p_character_id
    and public.character_readable_by(p_user_id, p_character_id)
$$;
select public.grant_to_service_role_only('character_snapshot(uuid,bigint,bigint)');
