-- Snapshots and the guild page (issue 10): one block per SQL function.

-- name: snapshot_sources
select public.snapshot_sources(p_character_id => %(p_character_id)s) as value;

-- name: record_character_snapshots
select public.record_character_snapshots(
  p_character_id => %(p_character_id)s, p_entries => %(p_entries)s) as value;

-- name: character_snapshots
select public.character_snapshots(
  p_user_id => %(p_user_id)s::uuid, p_character_id => %(p_character_id)s,
  p_kind => %(p_kind)s) as value;

-- name: character_snapshot
select public.character_snapshot(
  p_user_id => %(p_user_id)s::uuid, p_character_id => %(p_character_id)s,
  p_snapshot_id => %(p_snapshot_id)s) as value;

-- name: guild_page
select public.guild_page(p_user_id => %(p_user_id)s::uuid, p_guild_id => %(p_guild_id)s) as value;
