-- The SQL functions services call, one block per function (the psycopg adapter runs these;
-- the supabase-py adapter calls the same functions with .rpc()).

-- name: upsert_static_data
select public.upsert_static_data(p_data => %(p_data)s) as value;

-- name: upsert_login
select public.upsert_login(
  p_battlenet_id => %(p_battlenet_id)s, p_battletag => %(p_battletag)s,
  p_region => %(p_region)s, p_ciphertext => %(p_ciphertext)s, p_key_id => %(p_key_id)s,
  p_expires_at => %(p_expires_at)s::timestamptz, p_scopes => %(p_scopes)s::text[],
  p_sync_queue => %(p_sync_queue)s) as value;

-- name: save_oauth_state
select public.save_oauth_state(
  p_state => %(p_state)s, p_code_verifier => %(p_code_verifier)s,
  p_redirect_to => %(p_redirect_to)s, p_region => %(p_region)s,
  p_browser_hash => %(p_browser_hash)s, p_expires_at => %(p_expires_at)s::timestamptz) as value;

-- name: consume_login_state
select public.consume_login_state(
  p_state => %(p_state)s, p_browser_hash => %(p_browser_hash)s) as value;

-- name: find_user_id
select public.find_user_id(
  p_user_id => %(p_user_id)s::uuid, p_battlenet_id => %(p_battlenet_id)s::bigint) as value;

-- name: get_user_token
select public.get_user_token(p_user_id => %(p_user_id)s::uuid) as value;

-- name: mark_relogin_required
select public.mark_relogin_required(p_user_id => %(p_user_id)s::uuid) as value;

-- name: get_sync_preferences
select public.get_sync_preferences(p_user_id => %(p_user_id)s::uuid) as value;

-- name: set_sync_preferences
select public.set_sync_preferences(
  p_user_id => %(p_user_id)s::uuid, p_auto_sync => %(p_auto_sync)s,
  p_game_versions => %(p_game_versions)s::text[]) as value;

-- name: active_sync_session
select public.active_sync_session(p_user_id => %(p_user_id)s::uuid) as value;

-- name: start_character_sync
select public.start_character_sync(
  p_user_id => %(p_user_id)s::uuid, p_region => %(p_region)s, p_flavor => %(p_flavor)s,
  p_game_version => %(p_game_version)s, p_characters => %(p_characters)s,
  p_queue => %(p_queue)s, p_archive_missing => %(p_archive_missing)s) as value;

-- name: enqueue_character_enrichment
select public.enqueue_character_enrichment(
  p_user_id => %(p_user_id)s::uuid, p_character_id => %(p_character_id)s,
  p_queue => %(p_queue)s) as value;

-- name: request_character_enrichment
select public.request_character_enrichment(
  p_user_id => %(p_user_id)s::uuid, p_character_id => %(p_character_id)s,
  p_queue => %(p_queue)s, p_limit => %(p_limit)s::integer,
  p_window_s => %(p_window_s)s::integer) as value;

-- name: quota_take
select public.quota_take(
  p_user_id => %(p_user_id)s::uuid, p_kind => %(p_kind)s, p_limit => %(p_limit)s::integer,
  p_window_s => %(p_window_s)s::integer) as value;

-- name: stream_open
select public.stream_open(
  p_user_id => %(p_user_id)s::uuid, p_limit => %(p_limit)s::integer,
  p_ttl_s => %(p_ttl_s)s::integer, p_max_life_s => %(p_max_life_s)s::integer) as value;

-- name: stream_touch
select public.stream_touch(p_id => %(p_id)s::uuid, p_ttl_s => %(p_ttl_s)s::integer) as value;

-- name: stream_close
select public.stream_close(p_id => %(p_id)s::uuid) as value;

-- name: login_start_take
select public.login_start_take(
  p_address => %(p_address)s, p_limit => %(p_limit)s::integer) as value;

-- name: start_character_item
select public.start_character_item(
  p_session_id => %(p_session_id)s::uuid, p_character_id => %(p_character_id)s) as value;

-- name: record_character_result
select public.record_character_result(
  p_session_id => %(p_session_id)s::uuid, p_character_id => %(p_character_id)s,
  p_status => %(p_status)s, p_error => %(p_error)s, p_data => %(p_data)s) as value;

-- name: fail_sync_session
select public.fail_sync_session(
  p_session_id => %(p_session_id)s::uuid, p_error => %(p_error)s) as value;

-- name: get_sync_state
select public.get_sync_state(
  p_session_id => %(p_session_id)s::uuid, p_user_id => %(p_user_id)s::uuid) as value;

-- name: sync_events_since
select public.sync_events_since(
  p_session_id => %(p_session_id)s::uuid, p_after => %(p_after)s) as value;

-- name: list_user_characters
select public.list_user_characters(p_user_id => %(p_user_id)s::uuid) as value;

-- name: character_history
select public.character_history(
  p_user_id => %(p_user_id)s::uuid, p_character_id => %(p_character_id)s,
  p_since => %(p_since)s::timestamptz, p_limit => %(p_limit)s) as value;

-- name: queue_depths
select public.queue_depths() as value;

-- name: refresh_account_characters
select public.refresh_account_characters(
  p_user_id => %(p_user_id)s::uuid, p_region => %(p_region)s, p_flavor => %(p_flavor)s,
  p_characters => %(p_characters)s, p_archive_missing => %(p_archive_missing)s,
  p_queue => %(p_queue)s) as value;

-- name: apply_guild_roster
select public.apply_guild_roster(
  p_guild_id => %(p_guild_id)s, p_members => %(p_members)s,
  p_last_modified => %(p_last_modified)s::timestamptz,
  p_member_count => %(p_member_count)s) as value;

-- name: touch_guild_roster
select public.touch_guild_roster(p_guild_id => %(p_guild_id)s) as value;

-- name: queue_status
select public.queue_status() as value;

-- name: queue_consumer_report
select public.queue_consumer_report(
  p_ok => %(p_ok)s, p_error => %(p_error)s, p_code => %(p_code)s) as value;

-- name: pgmq_version
select public.pgmq_version() as value;

-- name: enqueue_profile_refreshes
select public.enqueue_profile_refreshes() as value;

-- name: enqueue_bulk_work
select public.enqueue_bulk_work() as value;

-- name: enqueue_character_refreshes
select public.enqueue_character_refreshes() as value;

-- name: enqueue_static_sync
select public.enqueue_static_sync() as value;

-- name: enqueue_guild_rosters
select public.enqueue_guild_rosters() as value;

-- name: expire_stuck_sessions
select public.expire_stuck_sessions() as value;

-- name: rate_limit_take
select public.rate_limit_take(
  p_bucket => %(p_bucket)s, p_want => %(p_want)s, p_class => %(p_class)s,
  p_per_second => %(p_per_second)s, p_per_window => %(p_per_window)s,
  p_window_s => %(p_window_s)s, p_reserve => %(p_reserve)s) as value;

-- name: queue_claim
select public.queue_claim(
  p_queue => %(p_queue)s, p_vt => %(p_vt)s, p_qty => %(p_qty)s, p_fair => %(p_fair)s) as value;

-- name: queue_settle
select public.queue_settle(
  p_queue => %(p_queue)s, p_msg_id => %(p_msg_id)s, p_read_ct => %(p_read_ct)s,
  p_action => %(p_action)s, p_seconds => %(p_seconds)s, p_reason => %(p_reason)s) as value;

-- name: queue_extend
select public.queue_extend(
  p_queue => %(p_queue)s, p_deliveries => %(p_deliveries)s, p_seconds => %(p_seconds)s) as value;

-- name: account_sync_started_since
select public.account_sync_started_since(
  p_user_id => %(p_user_id)s::uuid, p_since => %(p_since)s::timestamptz) as value;

-- name: breaker_state
select public.breaker_state(p_bucket => %(p_bucket)s, p_refused => %(p_refused)s) as value;

-- name: breaker_report
select public.breaker_report(
  p_bucket => %(p_bucket)s, p_ok => %(p_ok)s, p_threshold => %(p_threshold)s,
  p_error => %(p_error)s) as value;

-- name: breaker_claim_probe
select public.breaker_claim_probe(
  p_bucket => %(p_bucket)s, p_interval_ms => %(p_interval_ms)s) as value;

-- name: requeue_dead_letters
select public.requeue_dead_letters(
  p_queue => %(p_queue)s, p_since => %(p_since)s::timestamptz, p_reason => %(p_reason)s,
  p_limit => %(p_limit)s) as value;

-- name: prune_characters
select public.prune_characters(
  p_after_days => %(p_after_days)s, p_batch_size => %(p_batch_size)s,
  p_max_batches => %(p_max_batches)s) as value;

-- name: queue_claim_first
select public.queue_claim_first(p_queues => %(p_queues)s, p_vt => %(p_vt)s::integer) as value;

-- name: queue_complete
select public.queue_complete(p_queue => %(p_queue)s, p_items => %(p_items)s) as value;
