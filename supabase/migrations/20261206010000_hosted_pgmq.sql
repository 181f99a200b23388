-- The queue on hosted Supabase's pgmq (issue 14). Hosted creates pgmq 1.4.4 (Postgres 15
-- projects) or 1.5.1 (Postgres 17): their queue tables have msg_id, read_ct, enqueued_at, vt and
-- message only (1.5.1 adds one more column, neither has a read time). The project touches those five
-- columns and the functions 1.4.4 has, nothing else, so it runs on every pgmq since 1.4.4.
--
-- read_ct numbers deliveries, so a settle names the delivery it was claimed as and a stale
-- worker cannot settle a newer one. A delivery's attempts are its read_ct less its pauses (a
-- pause gives its attempt back). What a paused or retried delivery needs beyond pgmq's columns
-- lives here, keyed by queue and msg_id, and goes when its message goes (a claim writes
-- nothing here):
--   paused      why the message waits (the budget, an outage), null when it does not;
--   pauses      how often it waited (each one an attempt given back);
--   last_error  the reason of its last retry, for the operator.

create table if not exists public.queue_deliveries (
  queue      text        not null,
  msg_id     bigint      not null,
  pauses     integer     not null default 0,
  paused     text,
  last_error text,
  updated_at timestamptz not null default clock_timestamp(),
  primary key (queue, msg_id)
);
alter table public.queue_deliveries enable row level security;
revoke all on public.queue_deliveries from anon, authenticated;
grant select, insert, update, delete on public.queue_deliveries to service_role;

-- Claim up to p_qty visible messages for p_vt seconds: pgmq's read_ct numbers the delivery;
-- its attempts are read_ct less the pauses that gave one back (a paused delivery's side row is
-- told it runs again). In the interactive queue (p_fair) claims rotate between users:
-- each user's oldest message first, then everyone's second, and so on.
create or replace function public.queue_claim(
  p_queue text, p_vt integer, p_qty integer, p_fair boolean default false
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $_$
declare
  v_rows jsonb;
begin
  execute format($q$
    with visible as (
      select q.msg_id, q.message from pgmq.%1$I q
      where q.vt <= clock_timestamp()
      order by q.msg_id
      limit case when $4 then 5000 else $1 end
      for update skip locked
    ), picked as (
      select msg_id from (
        select msg_id, row_number() over (
                 partition by case when $4 then coalesce(message->>'userId', msg_id::text)
                              else msg_id::text end
                 order by msg_id) as turn
        from visible) r
      order by turn, msg_id
      limit $1
    ), claimed as (
      update pgmq.%1$I q set
        vt = clock_timestamp() + make_interval(secs => $2),
        read_ct = q.read_ct + 1
      from picked where q.msg_id = picked.msg_id
      returning q.msg_id, q.read_ct, q.enqueued_at, q.message
    ), resumed as (
      update public.queue_deliveries d set paused = null, updated_at = clock_timestamp()
      from claimed c
      where d.queue = $3 and d.msg_id = c.msg_id and d.paused is not null
    )
    select coalesce(jsonb_agg(jsonb_build_object(
             'msgId', c.msg_id, 'readCt', c.read_ct, 'enqueuedAt', c.enqueued_at,
             'attempts', c.read_ct - coalesce(d.pauses, 0), 'message', c.message)
             order by c.msg_id), '[]')
    from claimed c
    left join public.queue_deliveries d on d.queue = $3 and d.msg_id = c.msg_id
  $q$, 'q_' || p_queue)
  into v_rows using p_qty, p_vt, p_queue, p_fair;
  return v_rows;
end
$_$;

-- Settle one delivery: 'delete' (done), 'retry' (again after p_seconds; the attempt counts;
-- p_reason is kept as last_error for the operator), 'pause' (again after p_seconds; the
-- attempt is given back: waiting is not failing) or 'dead' (archived with p_reason). False
-- when the delivery is stale (the message was claimed again since) or the message is gone.
create or replace function public.queue_settle(
  p_queue text, p_msg_id bigint, p_read_ct integer, p_action text, p_seconds integer default 0,
  p_reason text default null
) returns boolean
language plpgsql security definer set search_path = public, pg_temp as $_$
declare
  v_found bigint;
  v_pauses integer;
begin
  if p_action = 'delete' then
    execute format('delete from pgmq.%I where msg_id = $1 and read_ct = $2 returning msg_id',
                   'q_' || p_queue) into v_found using p_msg_id, p_read_ct;
    if v_found is not null then
      delete from queue_deliveries where queue = p_queue and msg_id = p_msg_id;
    end if;
  elsif p_action in ('retry', 'pause') then
    execute format($q$
      update pgmq.%I set vt = clock_timestamp() + make_interval(secs => $3)
      where msg_id = $1 and read_ct = $2 returning msg_id
    $q$, 'q_' || p_queue) into v_found using p_msg_id, p_read_ct, greatest(p_seconds, 0);
    if v_found is not null and p_action = 'pause' then
      insert into queue_deliveries as d (queue, msg_id, paused, pauses)
      values (p_queue, p_msg_id, coalesce(p_reason, 'paused'), 1)
      on conflict (queue, msg_id) do update set
        paused = excluded.paused, pauses = d.pauses + 1, updated_at = clock_timestamp();
    elsif v_found is not null then
      insert into queue_deliveries as d (queue, msg_id, last_error)
      values (p_queue, p_msg_id, left(p_reason, 500))
      on conflict (queue, msg_id) do update set
        last_error = coalesce(excluded.last_error, d.last_error), updated_at = clock_timestamp();
    end if;
  elsif p_action = 'dead' then
    select d.pauses into v_pauses from queue_deliveries d
    where d.queue = p_queue and d.msg_id = p_msg_id;
    execute format($q$
      update pgmq.%I set message = message || jsonb_build_object('deadLetter',
        jsonb_build_object('error', $3, 'at', now(), 'attempts', read_ct - $4))
      where msg_id = $1 and read_ct = $2 returning msg_id
    $q$, 'q_' || p_queue) into v_found using p_msg_id, p_read_ct, coalesce(p_reason, 'dead'),
                                             coalesce(v_pauses, 0);
    if v_found is not null then
      perform pgmq.archive(p_queue, p_msg_id);
      delete from queue_deliveries where queue = p_queue and msg_id = p_msg_id;
    end if;
  else
    raise exception 'unknown settle action %', p_action;
  end if;
  return v_found is not null;
end
$_$;

-- Side rows whose message went another way (purged, deleted or archived outside
-- queue_settle): removed by the every-five-minutes job, in bounded batches.
create or replace function public.sweep_queue_deliveries(p_limit integer default 10000)
returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  q text;
  v_gone integer;
  v_total integer := 0;
begin
  for q in select distinct d.queue from queue_deliveries d loop
    if to_regclass(format('pgmq.%I', 'q_' || q)) is null then
      delete from queue_deliveries where queue = q;
    else
      execute format($q$
        delete from queue_deliveries d
        where d.ctid in (
          select s.ctid from queue_deliveries s
          where s.queue = $1
            and not exists (select 1 from pgmq.%I m where m.msg_id = s.msg_id)
          limit $2)
      $q$, 'q_' || q) using q, p_limit;
    end if;
    get diagnostics v_gone = row_count;
    v_total := v_total + v_gone;
  end loop;
  return v_total;
end
$$;

-- Dead letters are work to redo: put archived dead letters back as fresh messages (attempts
-- start again), each at most once. An enrichment's session is reopened when it is still the
-- user's latest of its kind (its character's failed state undone: counted again when it
-- finishes); otherwise the message is skipped, since its session can no longer take it.
create or replace function public.requeue_dead_letters(
  p_queue text default null, p_since timestamptz default null, p_reason text default null,
  p_limit integer default 1000
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  q text;
  v_msg_id bigint;
  v_message jsonb;
  v_sent integer := 0;
  v_skipped integer := 0;
  v_by_queue jsonb := '{}';
  v_count integer;
  v_session character_sync_sessions;
  v_latest uuid;
begin
  for q in select queue_name from pgmq.list_queues()
           where p_queue is null or queue_name = p_queue order by queue_name loop
    v_count := 0;
    for v_msg_id, v_message in execute format($f$
        select msg_id, message from pgmq.%I
        where message ? 'deadLetter' and not message ? 'requeuedAt'
          and ($1::timestamptz is null or archived_at >= $1)
          and ($2::text is null or message->'deadLetter'->>'error' ilike '%%' || $2 || '%%')
        order by msg_id limit $3
        for update skip locked
      $f$, 'a_' || q) using p_since, p_reason, greatest(p_limit - v_sent - v_skipped, 0)
    loop
      if v_message->>'type' = 'enrich_character' then
        select * into v_session from character_sync_sessions
        where id = (v_message->>'sessionId')::uuid for update;
        select s.id into v_latest from character_sync_sessions s
        where s.user_id = v_session.user_id and s.kind = v_session.kind
          and (s.kind = 'account' or exists (
                 select 1 from character_sync_items i
                 where i.session_id = s.id
                   and i.character_id = (v_message->>'characterId')::bigint))
        order by s.started_at desc limit 1;
        if v_session.id is null or v_latest is distinct from v_session.id then
          v_skipped := v_skipped + 1;
          execute format('update pgmq.%I set message = message || $2 where msg_id = $1',
                         'a_' || q)
            using v_msg_id, jsonb_build_object('requeuedAt', now(), 'skipped',
                                               'its session is no longer the latest');
          continue;
        end if;
        with undone as (
          update character_sync_items set status = 'pending', error = null, finished_at = null
          where session_id = v_session.id
            and character_id = (v_message->>'characterId')::bigint and status = 'failed'
          returning 1
        )
        update character_sync_sessions set
          status = 'processing', completed_at = null, error = null, updated_at = now(),
          processed_characters = processed_characters - (select count(*) from undone),
          failed_characters = failed_characters - (select count(*) from undone)
        where id = v_session.id;
      end if;
      perform pgmq.send(q, v_message - 'deadLetter');
      execute format('update pgmq.%I set message = message || $2 where msg_id = $1', 'a_' || q)
        using v_msg_id, jsonb_build_object('requeuedAt', now());
      v_sent := v_sent + 1;
      v_count := v_count + 1;
    end loop;
    if v_count > 0 then
      v_by_queue := v_by_queue || jsonb_build_object(q, v_count);
    end if;
  end loop;
  return jsonb_build_object('requeued', v_sent, 'skipped', v_skipped, 'byQueue', v_by_queue);
end
$$;

select public.grant_to_service_role_only(
  'queue_claim(text,integer,integer,boolean)',
  'queue_settle(text,bigint,integer,text,integer,text)',
  'sweep_queue_deliveries(integer)',
  'requeue_dead_letters(text,timestamptz,text,integer)'
);

do $$
begin
  if to_regnamespace('cron') is null then
    return;
  end if;
  perform cron.schedule('guild-sync-sweep-queue-deliveries', '*/5 * * * *',
                        'select public.sweep_queue_deliveries()');
end
$$;
