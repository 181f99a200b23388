-- Users, their encrypted Battle.net tokens, OAuth states, guilds and characters.
-- Identity of a character: (region, flavor, realm_id, blizzard_id); of a guild: (region,
-- flavor, blizzard_id). A user reads only their own rows; tokens and OAuth states are read by
-- no client role at all.

create table if not exists public.users (
  id                    uuid primary key default gen_random_uuid(),
  battlenet_id          bigint      not null unique,
  battletag             text,
  region                text        not null default 'us',
  login_state           text        not null default 'active'
                        check (login_state in ('active', 'relogin_required')),
  token_expires_at      timestamptz,
  token_scopes          text[]      not null default '{}',
  last_login_at         timestamptz,
  last_profile_sync_at  timestamptz,
  last_enqueued_at      timestamptz,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now()
);

create table if not exists public.battlenet_tokens (
  user_id     uuid primary key references public.users (id) on delete cascade,
  ciphertext  text        not null,
  key_id      text        not null,
  expires_at  timestamptz not null,
  scopes      text[]      not null default '{}',
  updated_at  timestamptz not null default now()
);

create table if not exists public.oauth_states (
  state          text primary key,
  code_verifier  text        not null,
  redirect_to    text,
  region         text        not null,
  expires_at     timestamptz not null,
  used_at        timestamptz,
  created_at     timestamptz not null default now()
);
create index if not exists oauth_states_expires_at on public.oauth_states (expires_at);

create table if not exists public.guilds (
  id                   bigint generated always as identity primary key,
  region               text    not null,
  flavor               text    not null,
  blizzard_id          bigint  not null,
  name                 text    not null,
  slug                 text    not null,
  realm_id             integer not null,
  realm_slug           text    not null,
  realm_name           text,
  faction              text,
  member_count         integer,
  roster_synced_at     timestamptz,
  roster_last_modified timestamptz,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  unique (region, flavor, blizzard_id)
);

create table if not exists public.characters (
  id                   bigint generated always as identity primary key,
  user_id              uuid references public.users (id) on delete set null,
  region               text    not null,
  flavor               text    not null,
  realm_id             integer not null,
  realm_slug           text    not null,
  realm_name           text,
  blizzard_id          bigint  not null,
  name                 text    not null,
  level                integer,
  class_id             integer,
  class_name           text,
  race_id              integer,
  race_name            text,
  faction              text,
  gender               text,
  guild_id             bigint references public.guilds (id) on delete set null,
  guild_rank           integer,
  average_item_level   integer,
  equipped_item_level  integer,
  last_login_at        timestamptz,
  avatar_url           text,
  media                jsonb   not null default '{}'::jsonb,
  is_active            boolean not null default true,
  archived_at          timestamptz,
  last_modified        timestamptz,
  enriched_at          timestamptz,
  last_enqueued_at     timestamptz,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  unique (region, flavor, realm_id, blizzard_id)
);
create index if not exists characters_user on public.characters (user_id) where user_id is not null;
create index if not exists characters_guild on public.characters (guild_id) where guild_id is not null;

alter table public.users enable row level security;
alter table public.battlenet_tokens enable row level security;
alter table public.oauth_states enable row level security;
alter table public.guilds enable row level security;
alter table public.characters enable row level security;

revoke all on public.battlenet_tokens, public.oauth_states from anon, authenticated;
grant select on public.users, public.characters, public.guilds to authenticated;
grant all on public.users, public.battlenet_tokens, public.oauth_states, public.guilds,
  public.characters to service_role;

drop policy if exists users_read_own on public.users;
create policy users_read_own on public.users for select to authenticated
  using (id = auth.uid());
drop policy if exists characters_read_own on public.characters;
create policy characters_read_own on public.characters for select to authenticated
  using (user_id = auth.uid());
-- A user sees the guilds their own characters are in.
drop policy if exists guilds_read_linked on public.guilds;
create policy guilds_read_linked on public.guilds for select to authenticated
  using (exists (select 1 from public.characters c
                 where c.guild_id = guilds.id and c.user_id = auth.uid()));
