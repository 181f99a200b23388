-- The local stack runner's queries (devtools/static_watch.py): dev tooling, not production.

-- name: stack_static_data_state
-- Is static data in, is its sync queued (and how often was it read), and the newest dead letter.
select
  (select count(*) from public.wow_classes)::int as classes,
  (select count(*) from public.wow_races)::int as races,
  (select count(*) from public.wow_realms)::int as realms,
  (select count(*) from pgmq.q_static_data)::int as queued,
  (select coalesce(max(read_ct), 0) from pgmq.q_static_data)::int as reads,
  dead.msg_id as last_dead_id,
  dead.error as last_dead_error,
  (select d.last_error from public.queue_deliveries as d
   join pgmq.q_static_data as q on q.msg_id = d.msg_id
   where d.queue = 'static_data'
   order by d.msg_id desc limit 1) as last_error
from (select 1) as one
left join lateral (
  select a.msg_id, a.message -> 'deadLetter' ->> 'error' as error
  from pgmq.a_static_data as a
  where a.message ? 'deadLetter'
  order by a.msg_id desc
  limit 1
) as dead on true;
