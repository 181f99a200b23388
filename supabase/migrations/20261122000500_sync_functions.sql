-- The transactional SQL functions of login and character sync. Services call them through
-- either adapter (psycopg: select fn(...); supabase-py: .rpc(...)). Service role only.

-- Login: upsert the user by Battle.net account id, store the encrypted token, and queue the
-- first profile sync, in one transaction.
create or replace function public.upsert_login(
  p_battlenet_id bigint, p_battletag text, p_region text, p_ciphertext text, p_key_id text,
  p_expires_at timestamptz, p_scopes text[], p_sync_queue text default 'character_sync',
  p_game_version text default 'retail'
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  u users;
begin
  insert into users (battlenet_id, battletag, region, login_state, token_expires_at,
                     token_scopes, last_login_at)
  values (p_battlenet_id, p_battletag, p_region, 'active', p_expires_at,
          coalesce(p_scopes, '{}'), now())
  on conflict (battlenet_id) do update
    set battletag = excluded.battletag, region = excluded.region, login_state = 'active',
        token_expires_at = excluded.token_expires_at, token_scopes = excluded.token_scopes,
        last_login_at = now(), updated_at = now()
  returning * into u;
  insert into battlenet_tokens (user_id, ciphertext, key_id, expires_at, scopes)
  values (u.id, p_ciphertext, p_key_id, p_expires_at, coalesce(p_scopes, '{}'))
  on conflict (user_id) do update
    set ciphertext = excluded.ciphertext, key_id = excluded.key_id,
        expires_at = excluded.expires_at, scopes = excluded.scopes, updated_at = now();
  if p_sync_queue is not null then
    perform pgmq.send(p_sync_queue, jsonb_build_object(
      'type', 'profile_sync', 'userId', u.id, 'gameVersion', p_game_version,
      'reason', 'login'));
    update users set last_enqueued_at = now() where id = u.id;
  end if;
  return jsonb_build_object('id', u.id, 'battlenetId', u.battlenet_id,
                            'battletag', u.battletag, 'region', u.region);
end
$$;

-- Single use: the first caller gets the state, every later one (or an expired state) nothing.
create or replace function public.consume_oauth_state(p_state text)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  s oauth_states;
begin
  update oauth_states set used_at = now()
  where state = p_state and used_at is null and expires_at > now()
  returning * into s;
  delete from oauth_states where expires_at < now() - interval '1 day';
  if s.state is null then
    return null;
  end if;
  return jsonb_build_object('state', s.state, 'codeVerifier', s.code_verifier,
                            'redirectTo', s.redirect_to, 'region', s.region);
end
$$;

create or replace function public.get_user_token(p_user_id uuid)
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select jsonb_build_object(
    'userId', u.id, 'battlenetId', u.battlenet_id, 'region', u.region,
    'loginState', u.login_state, 'ciphertext', t.ciphertext, 'keyId', t.key_id,
    'expiresAt', t.expires_at)
  from users u left join battlenet_tokens t on t.user_id = u.id
  where u.id = p_user_id
$$;

create or replace function public.mark_relogin_required(p_user_id uuid)
returns void language sql security definer set search_path = public, pg_temp as $$
  update users set login_state = 'relogin_required', updated_at = now() where id = p_user_id;
$$;

create or replace function public.active_sync_session(p_user_id uuid)
returns uuid language sql stable security definer set search_path = public, pg_temp as $$
  select id from character_sync_sessions
  where user_id = p_user_id and kind = 'account' and status in ('pending', 'processing')
  limit 1
$$;

-- A character as the API and the progress events show it: {id, name, realm}.
create or replace function public.character_ref(c characters)
returns jsonb language sql immutable as $$
  select jsonb_build_object('id', c.id, 'name', c.name,
                            'realm', coalesce(c.realm_name, c.realm_slug))
$$;

create or replace function public.enrichment_message(
  c characters, p_session uuid, p_user uuid
) returns jsonb language sql immutable as $$
  select jsonb_build_object(
    'type', 'enrich_character', 'sessionId', p_session, 'characterId', c.id,
    'userId', p_user, 'region', c.region, 'flavor', c.flavor,
    'realmSlug', c.realm_slug, 'name', c.name)
$$;

-- An account's characters as Battle.net listed them: deduplicated by identity (region, flavor,
-- realm id, Battle.net id): update existing, create new, reactivate archived; with
-- p_archive_missing, the user's characters of that region and flavor no longer listed are
-- archived. Returns the ids of the listed characters.
create or replace function public.upsert_account_characters(
  p_user_id uuid, p_region text, p_flavor text, p_characters jsonb, p_archive_missing boolean
) returns bigint[]
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_ids bigint[];
begin
  with src as (
    select * from jsonb_to_recordset(p_characters) as x(
      blizzard_id bigint, name text, realm_id int, realm_slug text, realm_name text,
      level int, class_id int, class_name text, race_id int, race_name text, faction text,
      gender text)
  ), up as (
    insert into characters as c (user_id, region, flavor, realm_id, realm_slug, realm_name,
      blizzard_id, name, level, class_id, class_name, race_id, race_name, faction, gender)
    select p_user_id, p_region, p_flavor, realm_id, realm_slug, realm_name, blizzard_id, name,
           level, class_id, class_name, race_id, race_name, faction, gender
    from src
    on conflict (region, flavor, realm_id, blizzard_id) do update
      set user_id = excluded.user_id, name = excluded.name, realm_slug = excluded.realm_slug,
          realm_name = coalesce(excluded.realm_name, c.realm_name), level = excluded.level,
          class_id = excluded.class_id, class_name = coalesce(excluded.class_name, c.class_name),
          race_id = excluded.race_id, race_name = coalesce(excluded.race_name, c.race_name),
          faction = coalesce(excluded.faction, c.faction),
          gender = coalesce(excluded.gender, c.gender),
          is_active = true, archived_at = null, updated_at = now()
    returning c.id
  )
  select coalesce(array_agg(id order by id), '{}') into v_ids from up;

  if p_archive_missing then
    update characters set is_active = false, archived_at = now(), updated_at = now()
    where user_id = p_user_id and region = p_region and flavor = p_flavor and is_active
      and not (id = any (v_ids));
  end if;
  update users set last_profile_sync_at = now(), updated_at = now() where id = p_user_id;
  return v_ids;
end
$$;

-- One account sync: the account's characters upserted, the session created with one row per
-- character, and one enrichment each queued in a single send_batch, in one transaction.
create or replace function public.start_character_sync(
  p_user_id uuid, p_region text, p_flavor text, p_game_version text, p_characters jsonb,
  p_queue text default 'character_sync', p_archive_missing boolean default true
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_session uuid;
  v_ids bigint[];
  v_total int;
  v_messages jsonb[];
begin
  perform pg_advisory_xact_lock(hashtextextended('sync:' || p_user_id::text, 0));
  v_session := active_sync_session(p_user_id);
  if v_session is not null then
    return jsonb_build_object('conflict', true, 'sessionId', v_session);
  end if;
  v_ids := upsert_account_characters(p_user_id, p_region, p_flavor, p_characters,
                                     p_archive_missing);
  v_total := cardinality(v_ids);

  insert into character_sync_sessions (user_id, kind, game_version, region, flavor, status,
                                       total_characters, completed_at)
  values (p_user_id, 'account', p_game_version, p_region, p_flavor,
          case when v_total = 0 then 'completed' else 'processing' end, v_total,
          case when v_total = 0 then now() end)
  returning id into v_session;

  insert into character_sync_items (session_id, character_id)
  select v_session, unnest(v_ids);

  if v_total > 0 then
    select array_agg(enrichment_message(c, v_session, p_user_id) order by c.id)
    into v_messages
    from characters c where c.id = any (v_ids);
    perform pgmq.send_batch(p_queue, v_messages);
    update characters set last_enqueued_at = now() where id = any (v_ids);
  end if;

  return jsonb_build_object(
    'conflict', false, 'sessionId', v_session,
    'characters', (select coalesce(jsonb_agg(character_ref(c) || jsonb_build_object(
                     'realmSlug', c.realm_slug, 'level', c.level) order by c.id), '[]')
                   from characters c where c.id = any (v_ids)));
end
$$;

-- One character's enrichment in a session of its own (POST /characters/{id}/enrich).
create or replace function public.enqueue_character_enrichment(
  p_user_id uuid, p_character_id bigint, p_queue text default 'character_sync'
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  c characters;
  v_session uuid;
  v_job bigint;
begin
  select * into c from characters where id = p_character_id and user_id = p_user_id;
  if c.id is null then
    return null;
  end if;
  insert into character_sync_sessions (user_id, kind, region, flavor, total_characters)
  values (p_user_id, 'character', c.region, c.flavor, 1)
  returning id into v_session;
  insert into character_sync_items (session_id, character_id) values (v_session, c.id);
  select * into v_job from pgmq.send(p_queue, enrichment_message(c, v_session, p_user_id));
  update characters set last_enqueued_at = now() where id = c.id;
  return jsonb_build_object('sessionId', v_session, 'jobId', v_job,
                            'character', character_ref(c));
end
$$;

-- A character starts: mark its row processing and show it as the session's current one.
-- Returns false when the character already has a final state (a redelivered message).
create or replace function public.start_character_item(p_session_id uuid, p_character_id bigint)
returns boolean
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_status text;
  c characters;
begin
  update character_sync_items set status = 'processing', attempts = attempts + 1,
                                  started_at = coalesce(started_at, now())
  where session_id = p_session_id and character_id = p_character_id
    and status in ('pending', 'processing')
  returning status into v_status;
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

-- Write what a character profile (and media) said. Guild: upserted by its identity and linked;
-- no guild in the profile unlinks it. Media null leaves the stored media as it was.
create or replace function public.apply_character_profile(p_character_id bigint, p_data jsonb)
returns void
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  c characters;
  g jsonb := p_data->'guild';
  v_guild bigint;
begin
  select * into c from characters where id = p_character_id for update;
  if c.id is null then
    return;
  end if;
  if g is not null and jsonb_typeof(g) = 'object' then
    insert into guilds as t (region, flavor, blizzard_id, name, slug, realm_id, realm_slug,
                             realm_name, faction)
    values (c.region, c.flavor, (g->>'blizzard_id')::bigint, g->>'name', g->>'slug',
            (g->>'realm_id')::int, g->>'realm_slug', g->>'realm_name', g->>'faction')
    on conflict (region, flavor, blizzard_id) do update
      set name = excluded.name, slug = excluded.slug, realm_slug = excluded.realm_slug,
          realm_name = coalesce(excluded.realm_name, t.realm_name),
          faction = coalesce(excluded.faction, t.faction), updated_at = now()
      where (t.name, t.slug, t.realm_slug) is distinct from
            (excluded.name, excluded.slug, excluded.realm_slug)
    returning id into v_guild;
    if v_guild is null then
      select id into v_guild from guilds
      where region = c.region and flavor = c.flavor and blizzard_id = (g->>'blizzard_id')::bigint;
    end if;
  end if;
  update characters set
    name = coalesce(p_data->>'name', name),
    realm_name = coalesce(p_data->>'realm_name', realm_name),
    level = coalesce((p_data->>'level')::int, level),
    class_id = coalesce((p_data->>'class_id')::int, class_id),
    class_name = coalesce(p_data->>'class_name', class_name),
    race_id = coalesce((p_data->>'race_id')::int, race_id),
    race_name = coalesce(p_data->>'race_name', race_name),
    faction = coalesce(p_data->>'faction', faction),
    gender = coalesce(p_data->>'gender', gender),
    average_item_level = coalesce((p_data->>'average_item_level')::int, average_item_level),
    equipped_item_level = coalesce((p_data->>'equipped_item_level')::int, equipped_item_level),
    last_login_at = coalesce(to_timestamp((p_data->>'last_login_timestamp')::bigint / 1000.0),
                             last_login_at),
    last_modified = coalesce((p_data->>'last_modified')::timestamptz, last_modified),
    guild_id = v_guild,
    guild_rank = case when v_guild is not distinct from guild_id then guild_rank end,
    media = case when p_data ? 'media' and jsonb_typeof(p_data->'media') = 'object'
                 then p_data->'media' else media end,
    avatar_url = case when p_data ? 'media' and jsonb_typeof(p_data->'media') = 'object'
                      then p_data->'media'->>'avatar' else avatar_url end,
    is_active = true, archived_at = null,
    enriched_at = now(), updated_at = now()
  where id = p_character_id;
end
$$;

-- Record one character's final result and advance the session: idempotent per (session,
-- character), so a message delivered twice never counts twice. Completes the session when
-- every character has a final state.
create or replace function public.record_character_result(
  p_session_id uuid, p_character_id bigint, p_status text, p_error text default null,
  p_data jsonb default null
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_item character_sync_items;
  s character_sync_sessions;
  c characters;
begin
  if p_status not in ('completed', 'failed') then
    raise exception 'status must be completed or failed, not %', p_status;
  end if;
  select * into v_item from character_sync_items
  where session_id = p_session_id and character_id = p_character_id for update;
  if v_item.session_id is null then
    return jsonb_build_object('recorded', false, 'reason', 'unknown');
  end if;
  if v_item.status in ('completed', 'failed') then
    return jsonb_build_object('recorded', false, 'reason', 'duplicate');
  end if;
  if p_status = 'completed' and p_data is not null then
    perform apply_character_profile(p_character_id, p_data);
  end if;
  update character_sync_items set status = p_status, error = p_error, finished_at = now()
  where session_id = p_session_id and character_id = p_character_id;
  select * into c from characters where id = p_character_id;
  update character_sync_sessions set
    processed_characters = processed_characters + 1,
    failed_characters = failed_characters + (p_status = 'failed')::int,
    current_character = character_ref(c) || jsonb_build_object('status', p_status),
    status = case when processed_characters + 1 >= total_characters then 'completed'
                  else status end,
    completed_at = case when processed_characters + 1 >= total_characters then now() end,
    updated_at = now()
  where id = p_session_id and status = 'processing'
  returning * into s;
  return jsonb_build_object('recorded', true, 'sessionStatus', s.status);
end
$$;

create or replace function public.fail_sync_session(p_session_id uuid, p_error text)
returns void language sql security definer set search_path = public, pg_temp as $$
  update character_sync_sessions set status = 'failed', error = p_error,
    completed_at = now(), updated_at = now()
  where id = p_session_id and status in ('pending', 'processing');
$$;

-- The current state of a session for its owner, as an event {event, data}; null otherwise.
create or replace function public.get_sync_state(p_session_id uuid, p_user_id uuid)
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select sync_state_event(s) || jsonb_build_object(
    'lastEventId', (select coalesce(max(e.id), 0) from sync_events e where e.session_id = s.id))
  from character_sync_sessions s
  where s.id = p_session_id and (p_user_id is null or s.user_id = p_user_id)
$$;

create or replace function public.sync_events_since(p_session_id uuid, p_after bigint)
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'event', event, 'data', payload)
                            order by id), '[]')
  from sync_events where session_id = p_session_id and id > p_after
$$;

create or replace function public.list_user_characters(p_user_id uuid)
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(jsonb_agg(character_ref(c) || jsonb_build_object(
    'realmSlug', c.realm_slug, 'region', c.region, 'flavor', c.flavor, 'level', c.level,
    'class', c.class_name, 'race', c.race_name, 'faction', c.faction,
    'itemLevel', c.equipped_item_level, 'avatarUrl', c.avatar_url,
    'guild', case when g.id is null then null
                  else jsonb_build_object('id', g.id, 'name', g.name, 'realm', g.realm_slug) end,
    'isActive', c.is_active, 'enrichedAt', c.enriched_at) order by c.flavor, c.name), '[]')
  from characters c left join guilds g on g.id = c.guild_id
  where c.user_id = p_user_id
$$;

-- Queue helpers PostgREST lacks: put a message back with a delay, and dead-letter it with its
-- error (the reason is kept in the archived message).
create or replace function public.queue_set_vt(p_queue text, p_msg_id bigint, p_seconds integer)
returns boolean language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return exists (select 1 from pgmq.set_vt(p_queue, p_msg_id, p_seconds));
end
$$;

create or replace function public.queue_dead_letter(p_queue text, p_msg_id bigint, p_error text)
returns boolean language plpgsql security definer set search_path = public, pg_temp as $$
begin
  execute format('update pgmq.%I set message = message || $1 where msg_id = $2',
                 'q_' || p_queue)
    using jsonb_build_object('deadLetter', jsonb_build_object('error', p_error, 'at', now())),
          p_msg_id;
  return pgmq.archive(p_queue, p_msg_id);
end
$$;

-- Messages per queue (visible or not), for the consumer's `remaining`.
create or replace function public.queue_depths()
returns jsonb language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(jsonb_object_agg(m.queue_name, m.queue_length), '{}')
  from pgmq.metrics_all() m
$$;

-- Functions only the service role may call (revoked from the client roles).
create or replace function public.grant_to_service_role_only(variadic p_functions text[])
returns void language plpgsql as $$
declare
  f text;
begin
  foreach f in array p_functions loop
    execute format('revoke execute on function public.%s from public, anon, authenticated', f);
    execute format('grant execute on function public.%s to service_role', f);
  end loop;
end
$$;
revoke execute on function public.grant_to_service_role_only(text[]) from public;

select public.grant_to_service_role_only(
  'upsert_login(bigint,text,text,text,text,timestamptz,text[],text,text)',
  'consume_oauth_state(text)',
  'get_user_token(uuid)',
  'mark_relogin_required(uuid)',
  'active_sync_session(uuid)',
  'upsert_account_characters(uuid,text,text,jsonb,boolean)',
  'start_character_sync(uuid,text,text,text,jsonb,text,boolean)',
  'enqueue_character_enrichment(uuid,bigint,text)',
  'start_character_item(uuid,bigint)',
  'apply_character_profile(bigint,jsonb)',
  'record_character_result(uuid,bigint,text,text,jsonb)',
  'fail_sync_session(uuid,text)',
  'get_sync_state(uuid,uuid)',
  'sync_events_since(uuid,bigint)',
  'list_user_characters(uuid)',
  'queue_set_vt(text,bigint,integer)',
  'queue_dead_letter(text,bigint,text)',
  'emit_sync_event(uuid,text,jsonb)',
  'queue_depths()'
);
