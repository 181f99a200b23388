-- Background work rebuilt around Blizzard's hourly budget (issue 8):
--   * the budget: BLIZZARD_RATE_PER_HOUR requests per aligned window of BLIZZARD_RATE_WINDOW_S
--     seconds, bulk work paced to at most (1 - reserve) of each window, users' work the rest;
--   * delivery: claims that count the job's attempts, rotate fairly between users in the
--     interactive queue, and settle only the delivery they were claimed as (20261206010000);
--   * jobs that wait for the budget pause (their attempt is given back) instead of failing.
-- Every queue call goes through these public RPCs (service role only), not pgmq_public.

-- ---------------------------------------------------------------------------------------
-- The budget

create table if not exists public.rate_limit_windows (
  bucket           text        not null,
  window_start     timestamptz not null,
  window_s         integer     not null,
  budget           integer     not null,
  bulk_cap         integer     not null,
  used             integer     not null default 0,
  bulk_used        integer     not null default 0,
  interactive_used integer     not null default 0,
  refused          integer     not null default 0,
  primary key (bucket, window_start)
);
alter table public.rate_limit_windows enable row level security;
revoke all on public.rate_limit_windows from anon, authenticated;
grant all on public.rate_limit_windows to service_role;

drop function if exists public.rate_limit_take(text, integer, integer, integer);

-- When users' work last asked for tokens: for a second after, bulk work yields the per-second
-- limit to it (a user's sync runs at the limit while a backlog waits).
alter table public.rate_limit_buckets add column if not exists interactive_at timestamptz;

-- Take up to p_want request tokens for a class of work ('interactive' or 'bulk'):
-- {granted, waitMs, reason, windowEndsAt, windowEndsInMs}. Three limits: the per-second bucket
-- (refilled at 98 % of the limit, burst 2 %: no interval of one second sees more than the
-- limit), the window's budget, and for bulk work its paced share: by t seconds into a window
-- bulk may have used cap * t / window (plus a 1 % head start), cap being (1 - reserve) of the
-- budget. Users' work comes first within the second: while it asked for tokens within the
-- last second, bulk work takes only from a full bucket (what users' work leaves unspent) and
-- waits at least 0.25 s when refused; its pace lets it catch up after.
-- reason says which limit refused: 'second', 'pace' or 'window'.
create or replace function public.rate_limit_take(
  p_bucket text, p_want integer, p_class text, p_per_second integer, p_per_window integer,
  p_window_s integer, p_reserve double precision
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  b rate_limit_buckets;
  w rate_limit_windows;
  v_now timestamptz := clock_timestamp();
  v_epoch double precision := extract(epoch from v_now);
  v_start timestamptz := to_timestamp(floor(v_epoch / p_window_s) * p_window_s);
  v_end timestamptz := v_start + make_interval(secs => p_window_s);
  v_elapsed double precision := v_epoch - extract(epoch from v_start);
  v_rate double precision := p_per_second * 0.98;
  v_burst double precision := greatest(1.0, p_per_second * 0.02);
  v_cap integer := floor((1 - p_reserve) * p_per_window);
  v_head double precision;
  v_tokens double precision;
  v_room integer;
  v_granted integer;
  v_wait double precision := 0;
  v_reason text;
  v_yield boolean;
begin
  if p_class not in ('interactive', 'bulk') then
    raise exception 'unknown budget class %', p_class;
  end if;
  insert into rate_limit_buckets (bucket, tokens) values (p_bucket, v_burst)
  on conflict (bucket) do nothing;
  select * into b from rate_limit_buckets where bucket = p_bucket for update;
  insert into rate_limit_windows (bucket, window_start, window_s, budget, bulk_cap)
  values (p_bucket, v_start, p_window_s, p_per_window, v_cap)
  on conflict do nothing;
  select * into w from rate_limit_windows
  where bucket = p_bucket and window_start = v_start for update;

  v_room := p_per_window - w.used;
  if p_class = 'bulk' then
    v_head := greatest(1.0, ceil(v_cap * 0.01));
    v_room := least(v_room,
                    least(v_cap, floor(v_cap * v_elapsed / p_window_s + v_head))::int - w.bulk_used);
  end if;
  v_tokens := least(v_burst, b.tokens + v_rate * extract(epoch from v_now - b.refreshed_at));
  v_yield := p_class = 'bulk' and b.interactive_at > v_now - interval '1 second'
             and v_tokens < v_burst;
  v_granted := case when v_yield then 0
                    else greatest(0, least(p_want, floor(v_tokens)::int, v_room)) end;

  if v_granted = 0 then
    if w.used >= p_per_window or (p_class = 'bulk' and w.bulk_used >= v_cap) then
      v_reason := 'window';
      v_wait := extract(epoch from v_end - v_now);
    elsif v_room <= 0 then
      v_reason := 'pace';  -- bulk is ahead of its even spread over the window
      v_wait := (w.bulk_used + 1 - v_head) * p_window_s / greatest(v_cap, 1) - v_elapsed;
    elsif v_yield then
      v_reason := 'second';  -- users' work is spending the second: bulk asks again later
      v_wait := greatest(0.25, (v_burst - v_tokens) / v_rate);
    else
      v_reason := 'second';
      v_wait := (1.0 - v_tokens) / v_rate;
    end if;
  end if;

  update rate_limit_buckets set
    tokens = v_tokens - v_granted, refreshed_at = v_now,
    granted = granted + v_granted, waited = waited + (v_granted = 0)::int,
    interactive_at = case when p_class = 'interactive' then v_now else interactive_at end
  where bucket = p_bucket;
  update rate_limit_windows set
    used = used + v_granted,
    bulk_used = bulk_used + case when p_class = 'bulk' then v_granted else 0 end,
    interactive_used = interactive_used + case when p_class = 'interactive' then v_granted else 0 end,
    refused = refused + (v_granted = 0)::int
  where bucket = p_bucket and window_start = v_start;
  delete from rate_limit_windows
  where bucket = p_bucket and window_start < v_start - interval '7 days';
  return jsonb_build_object('granted', v_granted, 'waitMs', greatest(ceil(v_wait * 1000), 0),
                            'reason', v_reason, 'windowEndsAt', v_end,
                            'windowEndsInMs', floor(extract(epoch from v_end - v_now) * 1000));
end
$$;

-- ---------------------------------------------------------------------------------------
-- Delivery: claims that count the job's attempts, rotate fairly between users in the interactive
-- queue and settle only the delivery they were claimed as (queue_claim, queue_settle) are
-- defined on hosted pgmq's columns in 20261206010000_hosted_pgmq.sql.

-- A long job keeps its deliveries: push their visibility timeouts to now + p_seconds (never
-- shorter than they are), only for deliveries that are still theirs. Returns how many.
create or replace function public.queue_extend(p_queue text, p_deliveries jsonb, p_seconds integer)
returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_count integer;
begin
  execute format($q$
    update pgmq.%I q set vt = greatest(q.vt, clock_timestamp() + make_interval(secs => $2))
    from jsonb_to_recordset($1) as d("msgId" bigint, "readCt" integer)
    where q.msg_id = d."msgId" and q.read_ct = d."readCt"
  $q$, 'q_' || p_queue) using p_deliveries, p_seconds;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

drop function if exists public.queue_set_vt(text, bigint, integer);
drop function if exists public.queue_dead_letter(text, bigint, text);

-- ---------------------------------------------------------------------------------------
-- Sessions and jobs

-- A character starts only while its session is still running: a message of an expired or
-- failed session is dropped without calling Battle.net.
create or replace function public.start_character_item(p_session_id uuid, p_character_id bigint)
returns boolean
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_status text;
  c characters;
begin
  update character_sync_items i set status = 'processing', attempts = i.attempts + 1,
                                    started_at = coalesce(i.started_at, now())
  from character_sync_sessions s
  where i.session_id = p_session_id and i.character_id = p_character_id
    and i.status in ('pending', 'processing')
    and s.id = i.session_id and s.status = 'processing'
  returning i.status into v_status;
  if v_status is null then
    return false;
  end if;
  select * into c from characters where id = p_character_id;
  update character_sync_sessions
  set current_character = character_ref(c) || jsonb_build_object('status', 'processing'),
      updated_at = now()
  where id = p_session_id and status = 'processing';
  return true;
end
$$;

-- One pending enrichment per character: a second call answers the pending one.
create or replace function public.enqueue_character_enrichment(
  p_user_id uuid, p_character_id bigint, p_queue text default 'character_sync'
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  c characters;
  v_session uuid;
  v_job bigint;
begin
  perform pg_advisory_xact_lock(hashtextextended('enrich:' || p_character_id::text, 0));
  select * into c from characters where id = p_character_id and user_id = p_user_id;
  if c.id is null then
    return null;
  end if;
  select s.id into v_session
  from character_sync_sessions s join character_sync_items i on i.session_id = s.id
  where s.user_id = p_user_id and s.kind = 'character' and s.status = 'processing'
    and i.character_id = c.id and i.status in ('pending', 'processing')
  order by s.started_at desc limit 1;
  if v_session is not null then
    execute format('select msg_id from pgmq.%I where message->>''sessionId'' = $1 limit 1',
                   'q_' || p_queue) into v_job using v_session::text;
    return jsonb_build_object('sessionId', v_session, 'jobId', v_job,
                              'character', character_ref(c), 'pending', true);
  end if;
  insert into character_sync_sessions (user_id, kind, region, flavor, total_characters)
  values (p_user_id, 'character', c.region, c.flavor, 1)
  returning id into v_session;
  insert into character_sync_items (session_id, character_id) values (v_session, c.id);
  select * into v_job from pgmq.send(p_queue, enrichment_message(c, v_session, p_user_id));
  update characters set last_enqueued_at = now() where id = c.id;
  return jsonb_build_object('sessionId', v_session, 'jobId', v_job,
                            'character', character_ref(c), 'pending', false);
end
$$;

-- Did the user start an account sync since this moment? (A login's queued first sync is
-- skipped when the user started one themselves in the meantime.)
create or replace function public.account_sync_started_since(p_user_id uuid, p_since timestamptz)
returns boolean language sql stable security definer set search_path = public, pg_temp as $$
  select exists (select 1 from character_sync_sessions
                 where user_id = p_user_id and kind = 'account' and started_at >= p_since)
$$;

-- Sessions without progress for a while fail, unless their work is still queued (paused for
-- the budget or an outage): those complete when it runs.
create or replace function public.expire_stuck_sessions(p_limit interval default interval '30 minutes')
returns integer language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_count integer;
begin
  if not pg_try_advisory_xact_lock(hashtextextended('job:expire_stuck_sessions', 0)) then
    return 0;
  end if;
  update character_sync_sessions s
  set status = 'failed', completed_at = now(), updated_at = now(),
      error = format('the sync made no progress for %s and was stopped', p_limit)
  where s.status in ('pending', 'processing') and s.updated_at < now() - p_limit
    and not exists (select 1 from pgmq.q_character_sync q
                    where q.message->>'sessionId' = s.id::text);
  get diagnostics v_count = row_count;
  delete from sync_events where created_at < now() - interval '7 days';
  delete from oauth_states where expires_at < now() - interval '1 day';
  return v_count;
end
$$;

-- Manual runs of a job body and pg_cron's run of the same job cannot enqueue twice: each body
-- takes a transaction-level advisory lock and does nothing when another run holds it.
create or replace function public.job_lock(p_job text)
returns boolean language sql security definer set search_path = public, pg_temp as $$
  select pg_try_advisory_xact_lock(hashtextextended('job:' || p_job, 0))
$$;

do $$
declare
  f record;
  v_src text;
begin
  -- Wrap the landed job bodies: rename each and put a locking body in front of it.
  for f in select * from (values
      ('enqueue_profile_refreshes', 'p_stale interval default interval ''20 hours'', '
         'p_max_backlog integer default 50000, p_limit integer default 200000, '
         'p_chunk integer default 10000', 'p_stale, p_max_backlog, p_limit, p_chunk',
       'interval,integer,integer,integer'),
      ('enqueue_character_refreshes', 'p_limit integer default 5000, '
         'p_max_backlog integer default 50000', 'p_limit, p_max_backlog', 'integer,integer'),
      ('enqueue_static_sync', '', '', ''),
      ('enqueue_guild_rosters', 'p_stale interval default interval ''20 hours''', 'p_stale',
       'interval')) as t(name, params, args, types)
  loop
    if to_regprocedure(format('public.%s_unlocked(%s)', f.name, f.types)) is null then
      execute format('alter function public.%s(%s) rename to %s_unlocked',
                     f.name, f.types, f.name);
    end if;
    v_src := format($f$
      create or replace function public.%1$s(%2$s) returns integer
      language plpgsql security definer set search_path = public, pg_temp as $body$
      begin
        if not job_lock(%1$L) then
          return 0;  -- another run of this job is enqueuing right now
        end if;
        return %1$s_unlocked(%3$s);
      end
      $body$;
    $f$, f.name, f.params, f.args);
    execute v_src;
    execute format('revoke execute on function public.%s_unlocked(%s) from public, anon, '
                   'authenticated', f.name, f.types);
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------
-- What an operator looks at: the budget, besides queues, dead letters and cron jobs.

create or replace function public.budget_status()
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(jsonb_object_agg(w.bucket, jsonb_build_object(
    'windowStart', w.window_start,
    'windowEndsAt', w.window_start + make_interval(secs => w.window_s),
    'budget', w.budget, 'used', w.used, 'bulkUsed', w.bulk_used, 'bulkCap', w.bulk_cap,
    'interactiveUsed', w.interactive_used, 'reserve', w.budget - w.bulk_cap,
    'refused', w.refused)), '{}')
  from (select distinct on (bucket) * from rate_limit_windows
        order by bucket, window_start desc) w
$$;

-- Jobs waiting (paused, not yet due) per queue, for the operator (what a delivery waits for is
-- kept in queue_deliveries, 20261206010000_hosted_pgmq.sql).
create or replace function public.paused_jobs()
returns jsonb language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  q text;
  v_count bigint;
  v_result jsonb := '{}';
begin
  for q in select queue_name from pgmq.list_queues() order by queue_name loop
    execute format($q$
      select count(*) from queue_deliveries d join pgmq.%I m on m.msg_id = d.msg_id
      where d.queue = $1 and d.paused is not null and m.vt > clock_timestamp()
    $q$, 'q_' || q) into v_count using q;
    v_result := v_result || jsonb_build_object(q, v_count);
  end loop;
  return v_result;
end
$$;

select public.grant_to_service_role_only(
  'rate_limit_take(text,integer,text,integer,integer,integer,double precision)',
  'queue_extend(text,jsonb,integer)',
  'start_character_item(uuid,bigint)',
  'enqueue_character_enrichment(uuid,bigint,text)',
  'account_sync_started_since(uuid,timestamptz)',
  'expire_stuck_sessions(interval)',
  'job_lock(text)',
  'enqueue_profile_refreshes(interval,integer,integer,integer)',
  'enqueue_character_refreshes(integer,integer)',
  'enqueue_static_sync()',
  'enqueue_guild_rosters(interval)',
  'budget_status()',
  'paused_jobs()'
);
