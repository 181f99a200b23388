"""Auto-sync preferences on the real database: the login's first sync, the daily account job,
the stale-character refresh and the guild rosters honour them; the answer says when the next
scheduled account sync can happen."""

from __future__ import annotations

from typing import Any

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from shared.db.users import Preferences
from tests.integration.helpers import char, login, sql, start


def queued(db: PsycopgDatabase, queue: str) -> list[dict[str, Any]]:
    return [r["message"] for r in sql(db, f"select message from pgmq.q_{queue} order by msg_id")]


def test_defaults_and_the_login_first_sync(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo, 1, queue="character_sync")
    prefs = repo.users.get_sync_preferences(user)
    assert prefs == Preferences("on_login", ["retail"], None, "on_login")
    assert [m["gameVersion"] for m in queued(db, "character_sync")] == ["retail"]

    sql(db, "delete from pgmq.q_character_sync")
    repo.users.set_sync_preferences(user, "on_login", ["classic_era", "retail", "classic_era"])
    login(repo, 1, queue="character_sync")
    [first] = queued(db, "character_sync")
    assert first["gameVersion"] == "classic_era" and first["reason"] == "login"

    sql(db, "delete from pgmq.q_character_sync")
    off = repo.users.set_sync_preferences(user, "off", ["retail"])
    assert off is not None and off.reason == "auto_sync_off" and off.next_sync_at is None
    login(repo, 1, queue="character_sync")
    assert queued(db, "character_sync") == []
    assert (
        repo.users.set_sync_preferences("00000000-0000-0000-0000-000000000000", "off", ["retail"])
        is None
    )


def test_daily_job_only_for_daily_users_one_message_per_version(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    on_login, off, daily = (login(repo, n) for n in (1, 2, 3))
    repo.users.set_sync_preferences(off, "off", ["retail"])
    repo.users.set_sync_preferences(daily, "daily", ["retail", "classic_progression"])
    sql(db, "update users set last_profile_sync_at = now() - interval '2 days'")
    assert repo.queue.run_job("enqueue_profile_refreshes") == 1
    assert [(m["userId"], m["gameVersion"]) for m in queued(db, "profile_sync")] == [
        (daily, "retail"),
        (daily, "classic_progression"),
    ]
    assert on_login not in str(queued(db, "profile_sync"))


def test_next_sync_at_within_the_login(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo, 1)
    sql(db, "update users set token_expires_at = now() + interval '23 hours'")
    sql(db, "update users set last_profile_sync_at = now()")
    prefs = repo.users.set_sync_preferences(user, "daily", ["retail"])
    assert prefs is not None and prefs.reason is None
    [row] = sql(
        db,
        "select %s::timestamptz - now() between interval '20 hours' and interval '21 hours' "
        "as ok, extract(minute from %s::timestamptz) as minute",
        prefs.next_sync_at,
        prefs.next_sync_at,
    )
    [job] = sql(db, "select schedule from cron.job where jobname = 'guild-sync-bulk-work'")
    assert row == {"ok": True, "minute": int(job["schedule"].split()[0])}  # when the job runs
    sql(db, "update users set token_expires_at = now() + interval '10 hours'")
    later = repo.users.get_sync_preferences(user)
    assert later is not None and later.next_sync_at is None
    assert later.reason == "login_expires_first"
    sql(db, "update users set login_state = 'relogin_required'")
    gone = repo.users.get_sync_preferences(user)
    assert gone is not None and gone.reason == "login_required"


def test_character_refresh_skips_off_users_but_not_roster_kept_characters(
    db: PsycopgDatabase,
) -> None:
    repo = Repositories.over(db)
    off, mate = login(repo, 1), login(repo, 2)
    repo.users.set_sync_preferences(off, "off", ["retail"])
    start(repo, off, [char(1, "Alone"), char(2, "Guilded")])
    start(repo, mate, [char(3, "Mate")])
    [g] = sql(
        db,
        "insert into guilds (region, flavor, blizzard_id, name, slug, realm_id, realm_slug) "
        "values ('us', 'retail', 9, 'G', 'g', 1, 'area-52') returning id",
    )
    sql(db, "update characters set guild_id = %s where name in ('Guilded', 'Mate')", g["id"])
    sql(
        db,
        "insert into characters (region, flavor, realm_id, realm_slug, blizzard_id, name) "
        "values ('us', 'retail', 1, 'area-52', 99, 'Stranger')",
    )
    sql(
        db,
        "update characters set enriched_at = now() - interval '30 days', "
        "created_at = now() - interval '30 days', last_enqueued_at = null",
    )
    assert repo.queue.run_job("enqueue_character_refreshes") == 3
    names = {m["name"] for m in queued(db, "character_refresh")}
    assert names == {"Guilded", "Mate", "Stranger"}

    assert repo.queue.run_job("enqueue_guild_rosters") == 1
    sql(db, "delete from pgmq.q_guild_roster")
    repo.users.set_sync_preferences(mate, "off", ["retail"])
    sql(db, "update guilds set roster_synced_at = null")
    assert repo.queue.run_job("enqueue_guild_rosters") == 0  # nobody wants that roster any more
