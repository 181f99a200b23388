-- Limits one client cannot get around (DESIGN.md section 5), counted in SQL so they hold
-- across every instance:
--
-- * quotas per user over a rolling hour (sync starts, enrichments): `quota_take` counts and
--   records under an advisory lock per user and kind, so concurrent calls are exact; the
--   service calls it before any Battle.net request, and a refused call writes nothing;
-- * open event streams per user: `stream_open` / `stream_touch` / `stream_close` keep one row
--   per open stream with an expiry the stream pushes forward while it lives (a crashed
--   instance's rows lapse on their own);
-- * login starts per client address and minute: `login_start_take`;
-- * login states cleaned by their indexed expiry only, in bounded batches, by pg_cron
--   (`prune_oauth_states`), no longer on every login start and callback.

-- ---------------------------------------------------------------------------------------
-- Quotas per user

create table if not exists public.user_quota_events (
  user_id  uuid        not null references public.users (id) on delete cascade,
  kind     text        not null check (kind in ('sync', 'enrich')),
  taken_at timestamptz not null default now()
);
create index if not exists user_quota_events_user_kind
  on public.user_quota_events (user_id, kind, taken_at);
create index if not exists user_quota_events_taken_at on public.user_quota_events (taken_at);

alter table public.user_quota_events enable row level security;
revoke all on public.user_quota_events from anon, authenticated;
grant all on public.user_quota_events to service_role;

-- Take one unit of a user's quota of `p_kind`: at most `p_limit` in any `p_window_s` seconds.
-- {"ok": true} when taken (recorded); {"ok": false, "retryAfter": s} otherwise, nothing
-- written, s being the seconds until the oldest counted event leaves the window.
create or replace function public.quota_take(
  p_user_id uuid, p_kind text, p_limit integer, p_window_s integer default 3600
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_now timestamptz;
  v_since timestamptz;
  v_count integer;
  v_oldest timestamptz;
begin
  perform pg_advisory_xact_lock(hashtextextended('quota:' || p_kind || ':' || p_user_id, 0));
  v_now := clock_timestamp();  -- read after the lock: a waiter counts what its holder wrote
  v_since := v_now - make_interval(secs => p_window_s);
  select count(*) into v_count from user_quota_events
  where user_id = p_user_id and kind = p_kind and taken_at > v_since;
  if v_count >= p_limit then
    -- the event whose leaving makes room (the oldest, unless the limit was lowered)
    select taken_at into v_oldest from user_quota_events
    where user_id = p_user_id and kind = p_kind and taken_at > v_since
    order by taken_at offset greatest(v_count - p_limit, 0) limit 1;
    return jsonb_build_object(
      'ok', false,
      'retryAfter', greatest(1, ceil(extract(epoch from
        coalesce(v_oldest, v_now) + make_interval(secs => p_window_s) - v_now)))::integer);
  end if;
  delete from user_quota_events
  where user_id = p_user_id and kind = p_kind and taken_at <= v_since;
  insert into user_quota_events (user_id, kind, taken_at) values (p_user_id, p_kind, v_now);
  return jsonb_build_object('ok', true);
end
$$;

-- An enrichment within the user's quota: what enqueue_character_enrichment answers, but a call
-- that would queue a new enrichment past `p_limit` in the window is undone and answered
-- {"quotaExceeded": true, "retryAfter": s}. Answers that queue nothing (unknown character, an
-- enrichment already pending) take no quota. A null `p_limit` takes none (the operator).
create or replace function public.request_character_enrichment(
  p_user_id uuid, p_character_id bigint, p_queue text default 'character_sync',
  p_limit integer default null, p_window_s integer default 3600
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_result jsonb;
  v_taken jsonb;
  v_retry integer;
begin
  begin
    v_result := enqueue_character_enrichment(p_user_id, p_character_id, p_queue);
    if v_result is null or p_limit is null or coalesce((v_result->>'pending')::boolean, false) then
      return v_result;
    end if;
    v_taken := quota_take(p_user_id, 'enrich', p_limit, p_window_s);
    if not (v_taken->>'ok')::boolean then
      v_retry := (v_taken->>'retryAfter')::integer;
      raise exception 'enrichment quota spent' using errcode = 'GS429';
    end if;
    return v_result;
  exception when sqlstate 'GS429' then
    -- the session and the queued message of this call are rolled back with the block
    return jsonb_build_object('quotaExceeded', true, 'retryAfter', v_retry);
  end;
end
$$;

-- ---------------------------------------------------------------------------------------
-- Open event streams per user

create table if not exists public.open_event_streams (
  id         uuid        primary key default gen_random_uuid(),
  user_id    uuid        not null references public.users (id) on delete cascade,
  opened_at  timestamptz not null default now(),
  ends_by    timestamptz not null,  -- opened_at + the stream's maximum life
  expires_at timestamptz not null   -- pushed forward by the stream's heartbeat
);
create index if not exists open_event_streams_user on public.open_event_streams (user_id);
create index if not exists open_event_streams_expires_at
  on public.open_event_streams (expires_at);

alter table public.open_event_streams enable row level security;
revoke all on public.open_event_streams from anon, authenticated;
grant all on public.open_event_streams to service_role;

-- Open a stream for a user holding fewer than `p_limit` live ones: {"ok": true, "id"}; else
-- {"ok": false, "retryAfter": s} (when the first of them ends at the latest), nothing written.
create or replace function public.stream_open(
  p_user_id uuid, p_limit integer, p_ttl_s integer, p_max_life_s integer
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_now timestamptz;
  v_count integer;
  v_free_at timestamptz;
  v_id uuid;
begin
  perform pg_advisory_xact_lock(hashtextextended('streams:' || p_user_id, 0));
  v_now := clock_timestamp();
  select count(*), min(least(expires_at, ends_by)) into v_count, v_free_at
  from open_event_streams where user_id = p_user_id and expires_at > v_now;
  if v_count >= p_limit then
    return jsonb_build_object(
      'ok', false,
      'retryAfter', greatest(1, ceil(extract(epoch from coalesce(v_free_at, v_now) - v_now)))::integer);
  end if;
  delete from open_event_streams where user_id = p_user_id and expires_at <= v_now;
  insert into open_event_streams (user_id, opened_at, ends_by, expires_at)
  values (p_user_id, v_now, v_now + make_interval(secs => p_max_life_s),
          v_now + make_interval(secs => p_ttl_s))
  returning id into v_id;
  return jsonb_build_object('ok', true, 'id', v_id);
end
$$;

-- The stream is alive: it counts for another `p_ttl_s` seconds. False when its row is gone.
create or replace function public.stream_touch(p_id uuid, p_ttl_s integer)
returns boolean
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  update open_event_streams
  set expires_at = least(ends_by, clock_timestamp() + make_interval(secs => p_ttl_s))
  where id = p_id;
  return found;
end
$$;

create or replace function public.stream_close(p_id uuid)
returns void
language sql security definer set search_path = public, pg_temp as $$
  delete from public.open_event_streams where id = p_id
$$;

-- ---------------------------------------------------------------------------------------
-- Login starts per client address and minute

create table if not exists public.login_starts (
  address text        not null,
  minute  timestamptz not null,
  starts  integer     not null,
  primary key (address, minute)
);
create index if not exists login_starts_minute on public.login_starts (minute);

alter table public.login_starts enable row level security;
revoke all on public.login_starts from anon, authenticated;
grant all on public.login_starts to service_role;

-- Count one login start of `p_address` in this minute: {"ok": true}, or past `p_limit`
-- {"ok": false, "retryAfter": seconds until the next minute}, the count unchanged.
create or replace function public.login_start_take(p_address text, p_limit integer)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_now timestamptz := clock_timestamp();
  v_minute timestamptz := date_trunc('minute', clock_timestamp());
  v_starts integer;
begin
  insert into login_starts as l (address, minute, starts)
  values (left(p_address, 64), v_minute, 1)
  on conflict (address, minute) do update set starts = l.starts + 1
  where l.starts < p_limit
  returning l.starts into v_starts;
  if v_starts is null or v_starts > p_limit then
    return jsonb_build_object(
      'ok', false,
      'retryAfter', greatest(1, ceil(extract(epoch from
        v_minute + interval '1 minute' - v_now)))::integer);
  end if;
  return jsonb_build_object('ok', true);
end
$$;

-- ---------------------------------------------------------------------------------------
-- Login states: no cleanup on the request path any more. An expired state is simply not
-- found; pg_cron deletes expired states by their indexed expiry, in bounded batches.

create or replace function public.save_oauth_state(
  p_state text, p_code_verifier text, p_redirect_to text, p_region text, p_browser_hash text,
  p_expires_at timestamptz
) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  insert into oauth_states (state, code_verifier, redirect_to, region, browser_hash, expires_at)
  values (p_state, p_code_verifier, p_redirect_to, p_region, p_browser_hash, p_expires_at);
end
$$;

create or replace function public.consume_login_state(p_state text, p_browser_hash text)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  s oauth_states;
begin
  select * into s from oauth_states
  where state = p_state and expires_at > now() and used_at is null
  for update;
  if not found then
    return null;
  end if;
  if s.browser_hash is null or p_browser_hash is null or s.browser_hash <> p_browser_hash then
    return jsonb_build_object('browserMismatch', true);
  end if;
  delete from oauth_states where state = p_state;
  return jsonb_build_object('state', s.state, 'codeVerifier', s.code_verifier,
                            'redirectTo', s.redirect_to, 'region', s.region);
end
$$;

-- Delete expired login states and past login-start counters, `p_batch` rows per statement
-- (through the expiry index), at most `p_max_batches` batches of each: the number deleted.
create or replace function public.prune_oauth_states(
  p_batch integer default 5000, p_max_batches integer default 20
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_total integer := 0;
  v_count integer;
begin
  for i in 1 .. p_max_batches loop
    delete from oauth_states where state in (
      select state from oauth_states where expires_at <= now()
      order by expires_at limit p_batch);
    get diagnostics v_count = row_count;
    v_total := v_total + v_count;
    exit when v_count < p_batch;
  end loop;
  for i in 1 .. p_max_batches loop
    delete from login_starts where (address, minute) in (
      select address, minute from login_starts where minute < now() - interval '1 minute'
      order by minute limit p_batch);
    get diagnostics v_count = row_count;
    v_total := v_total + v_count;
    exit when v_count < p_batch;
  end loop;
  return v_total;
end
$$;

-- Delete quota events older than `p_window` (their users' next take would too) and lapsed
-- stream rows (an instance that died without closing them), in bounded batches.
create or replace function public.prune_usage_limits(
  p_batch integer default 5000, p_window interval default interval '1 hour'
) returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_total integer;
  v_count integer;
begin
  delete from user_quota_events where ctid in (
    select ctid from user_quota_events where taken_at <= now() - p_window limit p_batch);
  get diagnostics v_total = row_count;
  delete from open_event_streams where id in (
    select id from open_event_streams where expires_at <= now() limit p_batch);
  get diagnostics v_count = row_count;
  return v_total + v_count;
end
$$;

-- Replaced by prune_oauth_states (by expiry only, bounded, from pg_cron).
drop function if exists public.purge_login_states();

select public.grant_to_service_role_only(
  'quota_take(uuid,text,integer,integer)',
  'request_character_enrichment(uuid,bigint,text,integer,integer)',
  'stream_open(uuid,integer,integer,integer)',
  'stream_touch(uuid,integer)',
  'stream_close(uuid)',
  'login_start_take(text,integer)',
  'save_oauth_state(text,text,text,text,text,timestamptz)',
  'consume_login_state(text,text)',
  'prune_oauth_states(integer,integer)',
  'prune_usage_limits(integer,interval)'
);

do $$
begin
  if to_regnamespace('cron') is null then
    return;
  end if;
  if exists (select 1 from cron.job where jobname = 'guild-sync-purge-login-states') then
    perform cron.unschedule('guild-sync-purge-login-states');
  end if;
  perform cron.schedule('guild-sync-prune-limits', '* * * * *',
                        'select public.prune_oauth_states(); select public.prune_usage_limits()');
end
$$;
