"""The pg_cron job bodies, the rate limiter, rosters and refreshes, on the real Postgres."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from devtools.pgcluster import Cluster
from shared.db.characters import RosterApplied
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.queue import JOBS
from shared.db.repositories import Repositories
from tests.integration.helpers import char, claim, login, sql, start

SCHEDULED = {
    "guild-sync-bulk-work",
    "guild-sync-static-data",
    "guild-sync-expire-stuck-sessions",
    "guild-sync-prune-characters",
}


def queued(db: PsycopgDatabase, queue: str) -> list[dict[str, Any]]:
    return [r["message"] for r in sql(db, f"select message from pgmq.q_{queue} order by msg_id")]


def test_schedules_are_in_cron_job(cluster: Cluster) -> None:
    with psycopg.connect(cluster.dsn()) as conn:
        jobs = {r[0]: r[1] for r in conn.execute("select jobname, command from cron.job")}
    assert SCHEDULED <= set(jobs)
    assert all("select public." in jobs[name] for name in SCHEDULED)
    # one plan for the account syncs, rosters and characters, no separate runs of each
    assert not {"guild-sync-profile-refresh", "guild-sync-character-refresh"} & set(jobs)


def test_every_job_body_runs_on_an_empty_database(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    assert {name: repo.queue.run_job(name) for name in JOBS} == {
        "enqueue_bulk_work": 0,
        "enqueue_profile_refreshes": 0,
        "enqueue_character_refreshes": 0,
        "enqueue_static_sync": 1,
        "enqueue_guild_rosters": 0,
        "expire_stuck_sessions": 0,
    }
    assert repo.queue.run_job("enqueue_static_sync") == 0  # one pending is enough


def test_profile_refresh_picks_valid_stale_users_once(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    fresh, stale, expired, relogin = (login(repo, n) for n in (1, 2, 3, 4))
    sql(db, "update users set auto_sync = 'daily'")  # the daily job is for daily users only
    sql(
        db,
        "update users set last_profile_sync_at = now() - interval '2 days' where id <> %s",
        fresh,
    )
    sql(db, "update users set last_profile_sync_at = now() where id = %s", fresh)
    sql(db, "update users set token_expires_at = now() - interval '1 hour' where id = %s", expired)
    sql(db, "update users set login_state = 'relogin_required' where id = %s", relogin)
    assert repo.queue.run_job("enqueue_profile_refreshes") == 1
    assert queued(db, "profile_sync") == [
        {"type": "profile_sync", "userId": stale, "gameVersion": "retail", "reason": "scheduled"}
    ]
    assert repo.queue.run_job("enqueue_profile_refreshes") == 0  # still pending: no duplicate
    stamp = sql(db, "select last_enqueued_at from users where id = %s", stale)[0]
    assert stamp["last_enqueued_at"] is not None


def test_profile_refresh_skipped_over_backlog(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    login(repo, 1)
    sql(db, "update users set auto_sync = 'daily'")
    sql(
        db,
        "select pgmq.send_batch('profile_sync', array_agg(jsonb_build_object('n', g))) "
        "from generate_series(1, 10) g",
    )
    assert sql(db, "select public.enqueue_profile_refreshes(p_max_backlog => 10) as n") == [
        {"n": 0}
    ]
    assert sql(db, "select public.enqueue_profile_refreshes(p_max_backlog => 11) as n") == [
        {"n": 1}
    ]


def test_character_refresh_prefers_active_characters(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    ids = [c["id"] for c in start(repo, user, [char(i, f"C{i}") for i in (1, 2, 3)])["characters"]]
    sql(
        db,
        "update characters set enriched_at = now() - interval '8 days', last_login_at = "
        "now() - interval '100 days', level = 10, last_enqueued_at = null",
    )
    sql(
        db,
        "update characters set last_login_at = now() - interval '1 hour', level = 80 where id = %s",
        ids[1],
    )
    sql(db, "update characters set enriched_at = now() where id = %s", ids[2])  # fresh
    sql(db, "delete from pgmq.q_character_sync")
    assert repo.queue.run_job("enqueue_character_refreshes") == 2
    assert [m["characterId"] for m in queued(db, "character_refresh")] == [ids[1], ids[0]]
    message = queued(db, "character_refresh")[0]
    assert message["type"] == "refresh_character" and message["blizzardId"] == 2
    assert repo.queue.run_job("enqueue_character_refreshes") == 0
    sql(
        db,
        "update characters set enriched_at = now() - interval '7 hours', "
        "last_enqueued_at = null where id = %s",
        ids[1],
    )
    assert repo.queue.run_job("enqueue_character_refreshes") == 1  # active: due after 6 hours


def test_guild_rosters_only_for_guilds_with_a_member(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    sql(
        db,
        "insert into guilds (region, flavor, blizzard_id, name, slug, realm_id, realm_slug) "
        "values ('us','retail',1,'Ours','ours',1,'area-52'), "
        "('us','retail',2,'Theirs','theirs',1,'area-52')",
    )
    user = login(repo)
    start(repo, user, [char(1, "Mine")])
    sql(db, "update characters set guild_id = (select id from guilds where blizzard_id = 1)")
    assert repo.queue.run_job("enqueue_guild_rosters") == 1
    assert [m["slug"] for m in queued(db, "guild_roster")] == ["ours"]
    assert repo.queue.run_job("enqueue_guild_rosters") == 0


def test_stuck_sessions_fail_with_sync_error(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    sid = start(repo, login(repo), [char(1, "A")])["sessionId"]
    sql(db, "update character_sync_sessions set updated_at = now() - interval '2 hours'")
    assert repo.queue.run_job("expire_stuck_sessions") == 0  # its work is still queued (paused)
    sql(db, "delete from pgmq.q_character_sync")  # its work is gone: nothing will finish it
    assert repo.queue.run_job("expire_stuck_sessions") == 1
    last = repo.sessions.sync_events_since(sid, 0)[-1]
    assert last["event"] == "sync-error" and "no progress" in last["data"]["error"]


def test_roster_upserts_members_and_unlinks_leavers(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    sql(
        db,
        "insert into guilds (region, flavor, blizzard_id, name, slug, realm_id, realm_slug) "
        "values ('us','retail',9,'G','g',1,'area-52')",
    )
    gid = sql(db, "select id from guilds")[0]["id"]
    own = start(repo, user, [char(1, "Mine"), char(2, "Leaver")])["characters"]
    sql(db, "update characters set guild_id = %s, guild_rank = 3", gid)
    members = [
        {
            "blizzard_id": 1,
            "name": "Mine",
            "realm_id": 1,
            "realm_slug": "area-52",
            "level": 80,
            "class_id": 1,
            "race_id": 2,
            "faction": None,
            "rank": 0,
        },
        {
            "blizzard_id": 7,
            "name": "Stranger",
            "realm_id": 1,
            "realm_slug": "area-52",
            "level": 70,
            "class_id": 5,
            "race_id": 1,
            "faction": None,
            "rank": 5,
        },
    ]
    assert repo.characters.apply_guild_roster(gid, members, None, 2) == RosterApplied(2, 1)
    chars = {r["name"]: r for r in sql(db, "select * from characters")}
    assert chars["Mine"]["user_id"] is not None and chars["Mine"]["guild_rank"] == 0
    assert chars["Mine"]["id"] == own[0]["id"]
    assert chars["Stranger"]["user_id"] is None and chars["Stranger"]["guild_id"] == gid
    assert chars["Leaver"]["guild_id"] is None and chars["Leaver"]["guild_rank"] is None


def test_rate_limiter_never_grants_more_than_the_per_second_limit(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    granted, started = 0, time.monotonic()
    while time.monotonic() - started < 1.0:
        granted += repo.throttle.rate_limit_take(
            "test-client", 4, "interactive", 50, 100_000, 3600, 0.2
        ).granted
    assert 35 <= granted <= 50  # 98 % of 50 per second, plus a burst of 1


def test_queue_status(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    sql(db, "select pgmq.send('guild_roster', '{\"a\": 1}')")
    msg = claim(db, "guild_roster", 1)[0]
    repo.queue.queue_settle(msg, "dead", reason="Battle.net answered 503")
    sql(db, "select pgmq.send('character_refresh', '{\"a\": 2}')")
    status = repo.queue.queue_status()
    assert status["queues"]["guild_roster"]["deadLettersLastDay"] == 1
    assert status["queues"]["character_refresh"]["depth"] == 1
    assert "cronJobs" in status and "rateLimiter" in status
    assert "budget" in status and status["pausedJobs"]["character_refresh"] == 0
