-- Battle.net outages (issue 11): a circuit breaker shared by every process, its history, and
-- dead letters requeued as fresh work.

-- ---------------------------------------------------------------------------------------
-- The breaker: consecutive failures (5xx, timeouts, connection errors) reported by every
-- process; at the threshold it opens. While open nobody calls Battle.net but one probe about
-- once a second (whoever claims it); a probe that succeeds closes it.

create table if not exists public.blizzard_breaker (
  bucket     text primary key,
  failures   integer     not null default 0,
  opened_at  timestamptz,
  probe_at   timestamptz,
  last_error text
);
create table if not exists public.blizzard_outages (
  id             bigint generated always as identity primary key,
  bucket         text        not null,
  opened_at      timestamptz not null default now(),
  closed_at      timestamptz,
  failures       integer     not null,
  saved_requests bigint      not null default 0,
  probes         integer     not null default 0,
  last_error     text
);
create index if not exists blizzard_outages_bucket on public.blizzard_outages (bucket, opened_at);
alter table public.blizzard_breaker enable row level security;
alter table public.blizzard_outages enable row level security;
revoke all on public.blizzard_breaker, public.blizzard_outages from anon, authenticated;
grant all on public.blizzard_breaker, public.blizzard_outages to service_role;

create or replace function public.breaker_json(b public.blizzard_breaker)
returns jsonb language sql stable set search_path = public, pg_temp as $$
  select jsonb_build_object('open', b.opened_at is not null, 'failures', coalesce(b.failures, 0),
                            'openedAt', b.opened_at)
$$;

-- A result: p_ok true resets the count (and closes an open breaker: the outage ends),
-- false adds a failure (and opens the breaker at p_threshold). Returns the state.
create or replace function public.breaker_report(
  p_bucket text, p_ok boolean, p_threshold integer, p_error text default null
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  b blizzard_breaker;
begin
  insert into blizzard_breaker (bucket) values (p_bucket) on conflict do nothing;
  select * into b from blizzard_breaker where bucket = p_bucket for update;
  if p_ok then
    if b.opened_at is not null then
      update blizzard_outages set closed_at = now()
      where bucket = p_bucket and closed_at is null;
    end if;
    update blizzard_breaker set failures = 0, opened_at = null, probe_at = null
    where bucket = p_bucket returning * into b;
  else
    update blizzard_breaker set failures = failures + 1, last_error = left(p_error, 500)
    where bucket = p_bucket returning * into b;
    if b.opened_at is null and p_threshold > 0 and b.failures >= p_threshold then
      update blizzard_breaker set opened_at = now(), probe_at = now() + interval '1 second'
      where bucket = p_bucket returning * into b;
      insert into blizzard_outages (bucket, failures, last_error)
      values (p_bucket, b.failures, b.last_error);
    end if;
  end if;
  return breaker_json(b);
end
$$;

-- The state, as a process refreshes it (about once a second); p_refused counts the requests
-- that process did not send since its last look (what the outage saved).
create or replace function public.breaker_state(p_bucket text, p_refused integer default 0)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  b blizzard_breaker;
begin
  select * into b from blizzard_breaker where bucket = p_bucket;
  if b.opened_at is not null and p_refused > 0 then
    update blizzard_outages set saved_requests = saved_requests + p_refused
    where bucket = p_bucket and closed_at is null;
  end if;
  return breaker_json(b);
end
$$;

-- Claim the next probe: true for one caller per p_interval_ms while the breaker is open.
create or replace function public.breaker_claim_probe(p_bucket text, p_interval_ms integer)
returns boolean
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_claimed text;
begin
  update blizzard_breaker
  set probe_at = clock_timestamp() + make_interval(secs => p_interval_ms / 1000.0)
  where bucket = p_bucket and opened_at is not null and probe_at <= clock_timestamp()
  returning bucket into v_claimed;
  if v_claimed is not null then
    update blizzard_outages set probes = probes + 1
    where bucket = p_bucket and closed_at is null;
  end if;
  return v_claimed is not null;
end
$$;

create or replace function public.breaker_status()
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(jsonb_object_agg(b.bucket, breaker_json(b) || jsonb_build_object(
    'lastError', b.last_error,
    'outages', (select coalesce(jsonb_agg(jsonb_build_object(
        'openedAt', o.opened_at, 'closedAt', o.closed_at,
        'seconds', round(extract(epoch from coalesce(o.closed_at, now()) - o.opened_at)::numeric, 1),
        'failures', o.failures, 'savedRequests', o.saved_requests, 'probes', o.probes,
        'lastError', o.last_error) order by o.opened_at desc), '[]')
      from (select * from blizzard_outages o where o.bucket = b.bucket
            order by o.opened_at desc limit 20) o))), '{}')
  from blizzard_breaker b
$$;

-- ---------------------------------------------------------------------------------------
-- Dead letters are work to redo: `requeue_dead_letters` puts archived dead letters back as
-- fresh messages; it is defined on hosted pgmq's columns in 20261206010000_hosted_pgmq.sql.

-- The operator's status: the landed answer plus the budget, the paused jobs and the breaker.
do $$
begin
  if to_regprocedure('public.queue_status_base()') is null then
    alter function public.queue_status() rename to queue_status_base;
  end if;
end
$$;
revoke execute on function public.queue_status_base() from public, anon, authenticated;

create or replace function public.queue_status()
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select queue_status_base() || jsonb_build_object(
    'budget', budget_status(), 'pausedJobs', paused_jobs(), 'breaker', breaker_status())
$$;

select public.grant_to_service_role_only(
  'breaker_json(blizzard_breaker)',
  'breaker_report(text,boolean,integer,text)',
  'breaker_state(text,integer)',
  'breaker_claim_probe(text,integer)',
  'breaker_status()',
  'queue_status()'
);
