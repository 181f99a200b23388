-- pg_net's calls of the consumer linger: after the queues run empty the function looks again
-- for idleSeconds before it answers, so work queued right after a call began (a sync started
-- within the poke throttle's 3 s) is picked up by that call, not by the next minute's.
create or replace function public.post_to_queue_consumer(
  p_max_messages integer default 200, p_max_seconds integer default 50
) returns bigint
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_url text;
  v_key text;
  v_id bigint;
begin
  if to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is null
     or to_regclass('vault.decrypted_secrets') is null then
    return null;
  end if;
  execute $q$
    select max(decrypted_secret) filter (where name = 'guild_sync_functions_url'),
           max(decrypted_secret) filter (where name = 'guild_sync_service_role_key')
    from vault.decrypted_secrets
    where name in ('guild_sync_functions_url', 'guild_sync_service_role_key')
  $q$ into v_url, v_key;
  if nullif(v_url, '') is null or nullif(v_key, '') is null then
    return null;
  end if;
  execute 'select net.http_post(url := $1, body := $2, params := $3, headers := $4, '
          'timeout_milliseconds := $5)'
    into v_id
    using rtrim(v_url, '/') || '/queue-consumer',
          jsonb_build_object('maxMessages', p_max_messages, 'maxSeconds', p_max_seconds,
                             'idleSeconds', 10),
          '{}'::jsonb,
          jsonb_build_object('Authorization', 'Bearer ' || v_key,
                             'Content-Type', 'application/json'),
          (p_max_seconds + 10) * 1000;
  return v_id;
end
$$;
select public.grant_to_service_role_only('post_to_queue_consumer(integer,integer)');
