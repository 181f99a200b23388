-- Character sync sessions with one row per character, their progress events, the queues, and
-- the SQL functions that keep it all exact: starting a sync (dedup + session + send_batch in
-- one transaction), recording one character's result (idempotent per session and character),
-- and a trigger that turns every change of a session into its events (events table,
-- pg_notify, and realtime.send where the realtime schema exists, as on Supabase).

create table if not exists public.character_sync_sessions (
  id                    uuid primary key default gen_random_uuid(),
  user_id               uuid        not null references public.users (id) on delete cascade,
  kind                  text        not null default 'account' check (kind in ('account', 'character')),
  game_version          text,
  region                text        not null,
  flavor                text        not null,
  status                text        not null default 'processing'
                        check (status in ('pending', 'processing', 'completed', 'failed')),
  total_characters      integer     not null default 0,
  processed_characters  integer     not null default 0,
  failed_characters     integer     not null default 0,
  current_character     jsonb,
  error                 text,
  started_at            timestamptz not null default now(),
  completed_at          timestamptz,
  updated_at            timestamptz not null default now()
);
-- At most one account sync in flight per user: the last word on concurrent requests.
create unique index if not exists character_sync_sessions_one_active
  on public.character_sync_sessions (user_id)
  where kind = 'account' and status in ('pending', 'processing');
create index if not exists character_sync_sessions_user on public.character_sync_sessions (user_id);

create table if not exists public.character_sync_items (
  session_id    uuid    not null references public.character_sync_sessions (id) on delete cascade,
  character_id  bigint  not null references public.characters (id) on delete cascade,
  status        text    not null default 'pending'
                check (status in ('pending', 'processing', 'completed', 'failed')),
  attempts      integer not null default 0,
  error         text,
  started_at    timestamptz,
  finished_at   timestamptz,
  primary key (session_id, character_id)
);

create table if not exists public.sync_events (
  id          bigint generated always as identity primary key,
  session_id  uuid  not null references public.character_sync_sessions (id) on delete cascade,
  event       text  not null,
  payload     jsonb not null,
  created_at  timestamptz not null default now()
);
create index if not exists sync_events_session on public.sync_events (session_id, id);

alter table public.character_sync_sessions enable row level security;
alter table public.character_sync_items enable row level security;
alter table public.sync_events enable row level security;
grant select on public.character_sync_sessions, public.character_sync_items, public.sync_events
  to authenticated;
grant all on public.character_sync_sessions, public.character_sync_items, public.sync_events
  to service_role;

drop policy if exists sessions_read_own on public.character_sync_sessions;
create policy sessions_read_own on public.character_sync_sessions for select to authenticated
  using (user_id = auth.uid());
drop policy if exists items_read_own on public.character_sync_items;
create policy items_read_own on public.character_sync_items for select to authenticated
  using (exists (select 1 from public.character_sync_sessions s
                 where s.id = session_id and s.user_id = auth.uid()));
drop policy if exists events_read_own on public.sync_events;
create policy events_read_own on public.sync_events for select to authenticated
  using (exists (select 1 from public.character_sync_sessions s
                 where s.id = session_id and s.user_id = auth.uid()));

-- Queues: interactive work first (character_sync), scheduled bulk work after.
select pgmq.create(q)
from unnest(array['character_sync', 'profile_sync', 'character_refresh', 'guild_roster',
                  'static_data']) as q
where not exists (select 1 from pgmq.list_queues() l where l.queue_name = q);

-- ---------------------------------------------------------------------------------------
-- Progress payloads (the exact shapes of DESIGN.md section 5)

create or replace function public.sync_progress_payload(s public.character_sync_sessions)
returns jsonb language sql immutable as $$
  select jsonb_build_object(
    'sessionId', s.id,
    'status', 'processing',
    'totalCharacters', s.total_characters,
    'processedCharacters', s.processed_characters,
    'failedCharacters', s.failed_characters,
    'progressPercentage', case when s.total_characters = 0 then 100
                               else (100 * s.processed_characters) / s.total_characters end,
    'currentCharacter', s.current_character)
$$;

create or replace function public.sync_complete_payload(s public.character_sync_sessions)
returns jsonb language sql immutable as $$
  select jsonb_build_object(
    'sessionId', s.id,
    'status', 'completed',
    'totalCharacters', s.total_characters,
    'processedCharacters', s.processed_characters,
    'failedCharacters', s.failed_characters,
    'progressPercentage', 100)
$$;

-- The current state of a session as one event (what a client joining late sees first).
create or replace function public.sync_state_event(s public.character_sync_sessions)
returns jsonb language sql immutable as $$
  select case s.status
    when 'completed' then jsonb_build_object('event', 'sync-complete',
                                             'data', public.sync_complete_payload(s))
    when 'failed' then jsonb_build_object('event', 'sync-error', 'data',
                                          jsonb_build_object('sessionId', s.id, 'error', s.error))
    else jsonb_build_object('event', 'sync-progress', 'data', public.sync_progress_payload(s))
  end
$$;

create or replace function public.emit_sync_event(p_session uuid, p_event text, p_payload jsonb)
returns void language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_id bigint;
begin
  insert into sync_events (session_id, event, payload) values (p_session, p_event, p_payload)
  returning id into v_id;
  perform pg_notify('sync_events', jsonb_build_object(
    'id', v_id, 'sessionId', p_session, 'event', p_event)::text);
  if to_regprocedure('realtime.send(jsonb,text,text,boolean)') is not null then
    execute 'select realtime.send($1, $2, $3, true)'
      using p_payload, p_event, 'sync:' || p_session::text;
  end if;
end
$$;

create or replace function public.character_sync_sessions_events()
returns trigger language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'INSERT' then
    if new.status = 'completed' then
      perform emit_sync_event(new.id, 'sync-complete', sync_complete_payload(new));
    end if;
    return new;
  end if;
  if new.status = 'failed' and old.status <> 'failed' then
    perform emit_sync_event(new.id, 'sync-error',
                            jsonb_build_object('sessionId', new.id, 'error', new.error));
    return new;
  end if;
  if old.status in ('completed', 'failed') then
    return new;
  end if;
  if new.current_character is distinct from old.current_character
     or new.processed_characters <> old.processed_characters then
    perform emit_sync_event(new.id, 'sync-progress', sync_progress_payload(new));
  end if;
  if new.status = 'completed' then
    perform emit_sync_event(new.id, 'sync-complete', sync_complete_payload(new));
  end if;
  return new;
end
$$;

drop trigger if exists character_sync_sessions_events on public.character_sync_sessions;
create trigger character_sync_sessions_events
  after insert or update on public.character_sync_sessions
  for each row execute function public.character_sync_sessions_events();
