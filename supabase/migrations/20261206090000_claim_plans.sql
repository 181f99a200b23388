-- Claims that keep their plan (issue 19). queue_claim built its statement for the queue's
-- table and ran it with EXECUTE, which plans a statement anew on every call: planning took
-- 0.7 ms of a claim's 1.2 ms, and a claim from an empty queue (the users' queue is asked before
-- every bulk claim) was almost nothing else. Each queue now has a claim function of its own,
-- `claim_q_<queue>` beside pgmq's `q_<queue>` table, made from the one template below: its
-- query names the table, so PL/pgSQL prepares it once per session and keeps the plan (a
-- generic one: the plan does not depend on the arguments). queue_claim calls it.
--
-- What a claim does is unchanged (20261206010000_hosted_pgmq.sql): up to p_qty visible
-- messages for p_vt seconds, pgmq's read_ct numbering the delivery, attempts = read_ct less
-- the pauses that gave one back, a paused delivery's side row told it runs again, and in a
-- fair queue each user's oldest message first, then everyone's second, and so on.

-- Make (or remake) the claim function of queue p_queue.
create or replace function public.define_queue_claim(p_queue text)
returns void
language plpgsql set search_path = public, pg_temp as $def$
begin
  execute format($f$
    create or replace function public.%1$I(p_vt integer, p_qty integer, p_fair boolean)
    returns jsonb
    language plpgsql security definer
    set search_path = public, pg_temp
    set plan_cache_mode = force_generic_plan
    as $body$
    declare
      v_rows jsonb;
    begin
      with visible as (
        select q.msg_id, q.message from pgmq.%2$I q
        where q.vt <= clock_timestamp()
        order by q.msg_id
        limit case when p_fair then 5000 else p_qty end
        for update skip locked
      ), picked as (
        select msg_id from (
          select msg_id, row_number() over (
                   partition by case when p_fair then coalesce(message->>'userId', msg_id::text)
                                else msg_id::text end
                   order by msg_id) as turn
          from visible) r
        order by turn, msg_id
        limit p_qty
      ), claimed as (
        update pgmq.%2$I q set
          vt = clock_timestamp() + make_interval(secs => p_vt),
          read_ct = q.read_ct + 1
        from picked where q.msg_id = picked.msg_id
        returning q.msg_id, q.read_ct, q.enqueued_at, q.message
      ), resumed as (
        update queue_deliveries d set paused = null, updated_at = clock_timestamp()
        from claimed c
        where d.queue = %3$L and d.msg_id = c.msg_id and d.paused is not null
      )
      select coalesce(jsonb_agg(jsonb_build_object(
               'msgId', c.msg_id, 'readCt', c.read_ct, 'enqueuedAt', c.enqueued_at,
               'attempts', c.read_ct - coalesce(d.pauses, 0), 'message', c.message)
               order by c.msg_id), '[]')
      into v_rows
      from claimed c
      left join queue_deliveries d on d.queue = %3$L and d.msg_id = c.msg_id;
      return v_rows;
    end
    $body$
  $f$, 'claim_q_' || p_queue, 'q_' || p_queue, p_queue);
  perform grant_to_service_role_only(
    format('%I(integer,integer,boolean)', 'claim_q_' || p_queue));
end
$def$;
revoke execute on function public.define_queue_claim(text)
  from public, anon, authenticated, service_role;

-- Claim up to p_qty visible messages of p_queue for p_vt seconds (see above). A queue created
-- after this migration gets its claim function on its first claim (made once: concurrent
-- first claims wait for each other).
create or replace function public.queue_claim(
  p_queue text, p_vt integer, p_qty integer, p_fair boolean default false
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_claim text := format('%I', 'claim_q_' || p_queue);
  v_rows jsonb;
begin
  if to_regprocedure('public.' || v_claim || '(integer,integer,boolean)') is null then
    perform pg_advisory_xact_lock(hashtext('guild_sync.' || v_claim));
    if to_regprocedure('public.' || v_claim || '(integer,integer,boolean)') is null then
      perform define_queue_claim(p_queue);
    end if;
  end if;
  execute format('select public.%s($1, $2, $3)', v_claim) into v_rows
    using p_vt, p_qty, p_fair;
  return v_rows;
end
$$;

select public.define_queue_claim(q)
from unnest(array['character_sync', 'profile_sync', 'character_refresh', 'guild_roster',
                  'static_data']) as q;
