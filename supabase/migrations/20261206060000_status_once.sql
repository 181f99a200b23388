-- The operator's status, each part defined once under its own name (issue 17): an earlier
-- migration renamed the first queue_status() to queue_status_base() and wrapped it; here the
-- queues, the limiter and the cron jobs are `queue_overview()`, and `queue_status()` puts the
-- parts together.

create or replace function public.queue_overview()
returns jsonb language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  q text;
  v_queues jsonb := '{}';
  v_dead bigint;
  v_depth bigint;
  v_oldest double precision;
begin
  for q in select queue_name from pgmq.list_queues() order by queue_name loop
    execute format('select count(*), extract(epoch from now() - min(enqueued_at)) from pgmq.%I',
                   'q_' || q) into v_depth, v_oldest;
    execute format('select count(*) from pgmq.%I where archived_at > now() - interval ''1 day'' '
                   'and message ? ''deadLetter''', 'a_' || q) into v_dead;
    v_queues := v_queues || jsonb_build_object(q, jsonb_build_object(
      'depth', v_depth, 'oldestMessageAgeSeconds', round(coalesce(v_oldest, 0)::numeric, 1),
      'deadLettersLastDay', v_dead));
  end loop;
  return jsonb_build_object(
    'queues', v_queues,
    'rateLimiter', (select coalesce(jsonb_object_agg(bucket, jsonb_build_object(
        'tokens', round(tokens::numeric, 2), 'hourCount', hour_count,
        'hourStart', hour_start, 'granted', granted, 'waits', waited)), '{}')
      from rate_limit_buckets),
    'cronJobs', case when to_regclass('cron.job') is null then '[]'::jsonb
                else (select coalesce(jsonb_agg(jsonb_build_object(
                        'name', jobname, 'schedule', schedule, 'active', active)
                        order by jobname), '[]') from cron.job) end);
end
$$;

create or replace function public.queue_status()
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select queue_overview() || jsonb_build_object(
    'budget', budget_status(), 'pausedJobs', paused_jobs(), 'breaker', breaker_status(),
    'consumer', consumer_status(), 'prune', prune_status())
$$;

drop function public.queue_status_base();

select public.grant_to_service_role_only('queue_overview()', 'queue_status()');
