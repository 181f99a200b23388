-- What the API roles may touch, stated explicitly. Hosted Supabase grants everything postgres
-- creates in public to anon and authenticated (sql/local mirrors it), so the earlier migrations'
-- `grant select ... to authenticated` left those roles with insert, update, delete and
-- truncate too, and every helper function executable. Here:
--   1. tables: client roles keep SELECT where a policy says what they see, nothing else
--      (writes go through the service role's functions; TRUNCATE would bypass RLS);
--   2. functions: none is for clients; each is revoked from public, anon and authenticated
--      and granted to service_role (grant_to_service_role_only), trigger functions included;
--   3. every security definer function gets a fixed search_path (altered, not redefined);
--   4. policies call auth.uid() once per statement, `(select auth.uid())`, not once per row.
-- A function or table added later must do the same: tests/integration/test_privileges.py
-- checks the whole schema, not a list.

-- 1. Tables and sequences
revoke all on all tables in schema public from anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;
grant select on public.wow_classes, public.wow_races, public.wow_realms to anon, authenticated;
grant select on public.users, public.characters, public.guilds, public.character_sync_sessions,
  public.character_sync_items, public.sync_events to authenticated;

-- 2. Functions: every function of public (extension members aside) becomes service-role only.
do $$
declare
  f text;
begin
  for f in
    select format('%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid))
    from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.proname <> 'grant_to_service_role_only'
      and not exists (select 1 from pg_depend d
                      where d.classid = 'pg_proc'::regclass and d.objid = p.oid
                        and d.deptype = 'e')
  loop
    perform public.grant_to_service_role_only(f);
  end loop;
end
$$;
-- The helper itself is for migrations only (it runs as its caller, the migration's owner).
revoke execute on function public.grant_to_service_role_only(text[])
  from public, anon, authenticated, service_role;

-- 3. A fixed search_path on every security definer function that lacks one.
do $$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure
    from pg_proc p
    where p.pronamespace = 'public'::regnamespace and p.prosecdef
      and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c
                      where c like 'search_path=%')
  loop
    execute format('alter function %s set search_path = public, pg_temp', f);
  end loop;
end
$$;

-- 4. Policies: auth.uid() evaluated once per statement (an initplan), as Supabase advises.
drop policy if exists users_read_own on public.users;
create policy users_read_own on public.users for select to authenticated
  using (id = (select auth.uid()));

drop policy if exists characters_read_own on public.characters;
create policy characters_read_own on public.characters for select to authenticated
  using (user_id = (select auth.uid()));

drop policy if exists guilds_read_linked on public.guilds;
create policy guilds_read_linked on public.guilds for select to authenticated
  using (exists (select 1 from public.characters c
                 where c.guild_id = guilds.id and c.user_id = (select auth.uid())));

drop policy if exists sessions_read_own on public.character_sync_sessions;
create policy sessions_read_own on public.character_sync_sessions for select to authenticated
  using (user_id = (select auth.uid()));

drop policy if exists items_read_own on public.character_sync_items;
create policy items_read_own on public.character_sync_items for select to authenticated
  using (exists (select 1 from public.character_sync_sessions s
                 where s.id = session_id and s.user_id = (select auth.uid())));

drop policy if exists events_read_own on public.sync_events;
create policy events_read_own on public.sync_events for select to authenticated
  using (exists (select 1 from public.character_sync_sessions s
                 where s.id = session_id and s.user_id = (select auth.uid())));
