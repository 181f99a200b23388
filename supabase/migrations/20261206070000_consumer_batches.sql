-- The consumer's round trips (issue 19): one call claims from the first queue, in priority
-- order, that has visible work (not one call per queue tried), and one call records a batch of
-- finished deliveries' results (a refresh's outcome, a session character's result with its
-- progress) and deletes their messages (not two calls per message), with what the jobs cost
-- in Battle.net requests (job_costs: what the scheduler plans with).

-- The next batch: from the first of `p_queues` (in the order given: [{queue, qty, fair}])
-- with visible work, as queue_claim claims it; null when every one is empty.
create or replace function public.queue_claim_first(p_queues jsonb, p_vt integer)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_queue jsonb;
  v_rows jsonb;
begin
  for v_queue in select value from jsonb_array_elements(p_queues) loop
    v_rows := queue_claim(v_queue->>'queue', p_vt, (v_queue->>'qty')::integer,
                          coalesce((v_queue->>'fair')::boolean, false));
    if jsonb_array_length(v_rows) > 0 then
      return jsonb_build_object('queue', v_queue->>'queue', 'deliveries', v_rows);
    end if;
  end loop;
  return null;
end
$$;

-- What a finished job records, by kind (the one place a batch's records are applied).
create or replace function public.apply_job_record(p_record jsonb)
returns void
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  case p_record->>'kind'
    when 'character_refresh' then
      perform record_character_refresh((p_record->>'characterId')::bigint,
                                       p_record->>'result', p_record->'data');
    when 'character_result' then
      perform record_character_result((p_record->>'sessionId')::uuid,
                                      (p_record->>'characterId')::bigint,
                                      p_record->>'status', p_record->>'error',
                                      p_record->'data');
    else
      raise exception 'unknown job record kind %', p_record->>'kind';
  end case;
end
$$;

-- A batch's records ([record]), in one call: the common case in one statement, refreshes
-- answered 304 (record_character_refresh's 'not_modified' only stamps refreshed_at, which no
-- history tracks), every other record by apply_job_record.
create or replace function public.apply_job_records(p_records jsonb)
returns void
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  update characters c set refreshed_at = now()
  from jsonb_array_elements(p_records) r
  where r->>'kind' = 'character_refresh' and r->>'result' = 'not_modified'
    and c.id = (r->>'characterId')::bigint;
  perform apply_job_record(r) from jsonb_array_elements(p_records) r
  where not (r->>'kind' = 'character_refresh' and r->>'result' = 'not_modified');
end
$$;

-- What recent jobs cost: Battle.net requests per job, by message type and hour.
create table if not exists public.job_costs (
  job text not null,
  hour timestamptz not null,
  jobs integer not null default 0,
  requests integer not null default 0,
  primary key (job, hour)
);
alter table public.job_costs enable row level security;
revoke all on table public.job_costs from anon, authenticated;
grant all on public.job_costs to service_role;

-- The consumer records what the jobs of a completed batch cost ([{job, requests}]).
create or replace function public.record_job_costs(p_costs jsonb)
returns void
language sql security definer set search_path = public, pg_temp as $$
  insert into job_costs as c (job, hour, jobs, requests)
  select e->>'job', date_trunc('hour', now()), count(*), sum((e->>'requests')::integer)
  from jsonb_array_elements(p_costs) e
  where e->>'job' is not null
  group by 1
  on conflict (job, hour) do update
    set jobs = c.jobs + excluded.jobs, requests = c.requests + excluded.requests
$$;

-- Finished deliveries of one queue: each one's record applied (in order, each on its own, so
-- one that fails does not hold back the others), then the messages deleted, each only as the
-- delivery it was (read_ct), and what the jobs cost recorded (each item's {job, requests}). A
-- delivery whose record failed keeps its message: it is answered in `failed` with the error,
-- for the worker to retry by the job's rule.
create or replace function public.queue_complete(p_queue text, p_items jsonb)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_item jsonb;
  v_done jsonb := '[]';
  v_failed jsonb := '[]';
  v_deleted bigint[];
begin
  -- the batch's characters locked in one order (by id), so two batches, or a batch and any
  -- statement that locks characters by id, never wait for each other in a circle
  perform 1 from characters
  where id in (select (i->'record'->>'characterId')::bigint from jsonb_array_elements(p_items) i
               where jsonb_typeof(i->'record') = 'object')
  order by id for update;
  begin  -- the records together; only when one fails, each on its own
    perform apply_job_records(coalesce(
      (select jsonb_agg(i->'record') from jsonb_array_elements(p_items) i
       where jsonb_typeof(i->'record') = 'object'), '[]'));
    v_done := p_items;
  exception when others then
    for v_item in select value from jsonb_array_elements(p_items) loop
      begin
        if jsonb_typeof(v_item->'record') = 'object' then
          perform apply_job_record(v_item->'record');
        end if;
        v_done := v_done || jsonb_build_array(v_item);
      exception when others then
        v_failed := v_failed || jsonb_build_array(jsonb_build_object(
          'msgId', (v_item->>'msgId')::bigint, 'error', left(sqlerrm, 500)));
      end;
    end loop;
  end;
  execute format($q$
    with gone as (
      delete from pgmq.%I q
      using jsonb_to_recordset($1) as d("msgId" bigint, "readCt" integer)
      where q.msg_id = d."msgId" and q.read_ct = d."readCt"
      returning q.msg_id
    )
    select coalesce(array_agg(msg_id), '{}') from gone
  $q$, 'q_' || p_queue) into v_deleted using v_done;
  delete from queue_deliveries where queue = p_queue and msg_id = any (v_deleted);
  perform record_job_costs(coalesce(
    (select jsonb_agg(i->'cost') from jsonb_array_elements(p_items) i
     where jsonb_typeof(i->'cost') = 'object'), '[]'));
  return jsonb_build_object('deleted', to_jsonb(v_deleted), 'failed', v_failed);
end
$$;

select public.grant_to_service_role_only(
  'record_job_costs(jsonb)',
  'queue_claim_first(jsonb,integer)',
  'apply_job_record(jsonb)',
  'apply_job_records(jsonb)',
  'queue_complete(text,jsonb)'
);
