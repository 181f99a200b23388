-- What a hosted Supabase project is before its first migration (DESIGN.md section 9;
-- supabase/postgres: init-scripts, 10000000000000_demote-postgres.sql,
-- 20230201083204_grant_auth_roles_to_postgres.sql, 20230306081037_grant_pg_monitor_to_postgres.sql,
-- 20231020085357_revoke_writes_on_cron_job_from_postgres.sql,
-- 20240606060239_grant_predefined_roles_to_postgres.sql), for plain Postgres. The local
-- cluster's superuser is `supabase_admin`, as on hosted; it runs this file, idempotently, before
-- any migration. Migrations then reach the database as `postgres`, which is NOT a superuser.
--
-- Not here, as on hosted: default privileges that grant what `postgres` creates in `public` to
-- the API roles (hosted stopped that on 2026-10-30): every grant is written in a migration.
-- pgmq is created by `postgres` (the dashboard's Queues toggle) by devtools/migrate.py, at the
-- version hosted ships.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'postgres') then
    create role postgres login;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator noinherit login;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin noinherit createrole login;
  end if;
end
$$;

-- The API roles inherit (supabase/postgres 20230529180330_alter_api_roles_for_inherit.sql).
alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit;
grant anon, authenticated, service_role to authenticator;

-- postgres: the role a project's owner and `supabase db push` use.
alter role postgres nosuperuser createdb createrole login replication bypassrls;
grant pg_monitor, pg_read_all_data, pg_signal_backend to postgres;
grant anon, authenticated, service_role to postgres;
alter role postgres set search_path to "$user", public, extensions;
do $$
begin
  execute format('alter database %I owner to postgres', current_database());
end
$$;
grant usage on schema public to anon, authenticated, service_role;

-- extensions: owned by the platform, usable by everyone.
create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

-- pg_cron, enabled by the platform's superuser (the dashboard) in the database that
-- cron.database_name names; postgres gets its schema with grant option, reads cron.job and
-- schedules through cron.schedule().
do $$
begin
  if current_database() <> coalesce(current_setting('cron.database_name', true), 'postgres') then
    return;
  end if;
  create extension if not exists pg_cron;
  grant usage on schema cron to postgres with grant option;
  grant all privileges on all tables in schema cron to postgres with grant option;
  grant all privileges on all sequences in schema cron to postgres with grant option;
  grant all privileges on all functions in schema cron to postgres with grant option;
  revoke all on table cron.job from postgres;
  grant select on table cron.job to postgres with grant option;
end
$$;

-- plpgsql_check, for `supabase db lint` (hosted offers it as an extension).
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'plpgsql_check') then
    create extension if not exists plpgsql_check with schema extensions;
  end if;
end
$$;

-- auth: owned by Supabase Auth's role; the helpers policies use read the request's claims.
create schema if not exists auth authorization supabase_auth_admin;
grant usage on schema auth to anon, authenticated, service_role;
grant all on schema auth to postgres;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

alter function auth.jwt() owner to supabase_auth_admin;
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
grant execute on function auth.jwt(), auth.uid(), auth.role()
  to postgres, anon, authenticated, service_role;
