-- Supabase Realtime: progress events go out as Broadcast on the private topic
-- `sync:<sessionId>` (emit_sync_event calls realtime.send). A private channel admits a client
-- only if a policy on realtime.messages lets it read there: Realtime inserts a probe message
-- for the topic, sets role, request.jwt.claims and realtime.topic, and selects it back. This
-- policy lets an authenticated user read (receive) broadcasts of their own sessions only; it
-- grants no INSERT, so no client broadcasts on these topics.
--
-- Plain Postgres has no realtime schema: the migration then skips, and tests apply the same
-- function to a stand-in schema shaped like Supabase's (tests/integration/realtime.py).

create or replace function public.install_realtime_sync_policy()
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
  if to_regclass('realtime.messages') is null or to_regprocedure('realtime.topic()') is null then
    return false;
  end if;
  drop policy if exists guild_sync_read_own_sync_topic on realtime.messages;
  -- The session id is parsed from the topic once (an initplan), so the lookup is by primary
  -- key; a topic that is not `sync:<uuid>` matches nothing instead of failing the cast.
  create policy guild_sync_read_own_sync_topic on realtime.messages
    for select to authenticated
    using (
      realtime.messages.extension = 'broadcast'
      and realtime.messages.topic = (select realtime.topic())
      and exists (
        select 1 from public.character_sync_sessions s
        where s.id = (select case
                        when realtime.topic() ~ '^sync:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                        then substr(realtime.topic(), 6)::uuid
                      end)
          and s.user_id = (select auth.uid())
      )
    );
  return true;
end
$$;
revoke execute on function public.install_realtime_sync_policy()
  from public, anon, authenticated, service_role;

-- Without the policy no client can join a private sync topic (closed, not open): a role that
-- may not create it warns instead of failing every later migration.
do $$
begin
  if not public.install_realtime_sync_policy() then
    raise notice 'no realtime schema here: the sync topic policy is not installed';
  end if;
exception when insufficient_privilege then
  raise warning 'realtime.messages policy not installed (%): run '
                'select public.install_realtime_sync_policy() as the table''s owner', sqlerrm;
end
$$;
