-- What the API roles may touch, stated explicitly. Hosted Supabase grants everything postgres
-- creates in public to anon and authenticated (sql/local mirrors it), so the earlier migrations'
-- `grant select ... to authenticated` left those roles with insert, update, delete and
-- truncate too, anon with select on users' tables, and the helper functions without an
-- explicit revoke executable by anyone. Here:
--   1. tables: no client role writes anything (writes go through the service role's
--      functions; TRUNCATE would even bypass RLS); anon reads the static tables only;
--   2. functions: the helpers the earlier migrations left open become service-role only
--      (grant_to_service_role_only), trigger functions included;
--   3. every security definer function gets a fixed search_path (altered, not redefined);
--   4. policies call auth.uid() once per statement, `(select auth.uid())`, not once per row.
-- A table, function or policy added later must do the same: tests/integration/
-- test_privileges.py checks the whole schema, not a list.

-- 1. Tables and sequences
revoke insert, update, delete, truncate, references, trigger on all tables in schema public
  from anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;
revoke all on public.users, public.characters, public.guilds, public.character_sync_sessions,
  public.character_sync_items, public.sync_events from anon;
revoke all on public.battlenet_tokens, public.oauth_states, public.rate_limit_buckets
  from anon, authenticated;

-- 2. Functions no client calls. (A function another migration has dropped meanwhile is skipped.)
do $$
declare
  f text;
begin
  foreach f in array array[
    'character_ref(public.characters)',
    'character_refresh_interval(public.characters)',
    'enrichment_message(public.characters,uuid,uuid)',
    'refresh_message(public.characters)',
    'roster_message(public.guilds)',
    'sync_progress_payload(public.character_sync_sessions)',
    'sync_complete_payload(public.character_sync_sessions)',
    'sync_state_event(public.character_sync_sessions)',
    'character_sync_sessions_events()'
  ] loop
    if to_regprocedure('public.' || f) is not null then
      perform public.grant_to_service_role_only(f);
    end if;
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
