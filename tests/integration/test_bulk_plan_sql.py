"""The hourly plan of bulk work on the real Postgres: sized by one window of the bulk budget
and the measured cost of recent jobs, less what is already queued; account syncs (with their
characters' refreshes), rosters and characters in the one plan, the stalest and most active
characters first; the plan kept for the status."""

from __future__ import annotations

import json
from typing import Any

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from tests.integration.helpers import char, login, sql, start


def window(db: PsycopgDatabase, bulk_cap: int, window_s: int = 10) -> None:
    """A budget window as the consumers record it (its bulk share is what a plan fills)."""
    sql(
        db,
        "insert into rate_limit_windows (bucket, window_start, window_s, budget, bulk_cap) "
        "values ('client', now(), %s, %s, %s)",
        window_s,
        bulk_cap * 5 // 4,
        bulk_cap,
    )


def costs(db: PsycopgDatabase, **per_job: tuple[int, int]) -> None:
    """Recent jobs' costs: job=(jobs, requests)."""
    for job, (jobs, requests) in per_job.items():
        sql(db, "select public.record_job_costs(%s::jsonb)", _costs(job, jobs, requests))


def _costs(job: str, jobs: int, requests: int) -> str:
    each = [{"job": job, "requests": requests // jobs} for _ in range(jobs)]
    each[0]["requests"] += requests - sum(e["requests"] for e in each)
    return json.dumps(each)


def known_characters(db: PsycopgDatabase, count: int, *, days_stale: int = 8) -> None:
    """`count` dormant characters known from rosters (no user), stale by `days_stale` days."""
    sql(
        db,
        "insert into characters (region, flavor, realm_id, realm_slug, blizzard_id, name, "
        "level, last_login_at, enriched_at) "
        "select 'us', 'retail', 1, 'area-52', 100000 + g, 'K' || g, 20, "
        "now() - interval '200 days', now() - make_interval(days => %s) "
        "from generate_series(1, %s) g",
        days_stale,
        count,
    )


def plan(db: PsycopgDatabase) -> dict[str, Any]:
    status: dict[str, Any] = sql(db, "select public.queue_status() as s")[0]["s"]
    return status["plan"]  # type: ignore[no-any-return]


def depth(db: PsycopgDatabase, queue: str) -> int:
    return int(sql(db, f"select count(*) as n from pgmq.q_{queue}")[0]["n"])


def test_a_run_queues_what_one_window_of_the_bulk_budget_serves(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    window(db, bulk_cap=100)
    costs(db, refresh_character=(10, 20))  # measured: 2 requests a refresh
    known_characters(db, 300)
    assert repo.queue.run_job("enqueue_bulk_work") == 50
    p = plan(db)
    assert p["capacity"] == 100 and p["requestsPerJob"]["refreshCharacter"] == 2.0
    assert p["due"]["characterRefreshes"] == 300
    assert p["enqueued"]["characterRefreshes"] == 50 and p["expectedRequests"] == 100.0
    assert depth(db, "character_refresh") == 50
    # the next run counts what is still queued: nothing more until it is served
    assert repo.queue.run_job("enqueue_bulk_work") == 0
    assert plan(db)["queuedRequests"] == 100.0
    sql(db, "select pgmq.purge_queue('character_refresh')")
    costs(db, refresh_character=(90, 90))  # most answered 304 since: 110 / 100 = 1.1 each
    assert repo.queue.run_job("enqueue_bulk_work") == 90  # 100 / 1.1


def test_a_manual_run_of_one_body_is_sized_by_the_plan_too(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    window(db, bulk_cap=40)
    known_characters(db, 100)  # unmeasured: 2 requests a refresh
    assert repo.queue.run_job("enqueue_character_refreshes") == 20
    assert sql(db, "select public.enqueue_character_refreshes(p_limit => 5) as n") == [{"n": 5}]


def test_the_stalest_and_most_active_go_first(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    window(db, bulk_cap=4)
    known_characters(db, 3, days_stale=8)  # dormant: 8 days of 7
    sql(db, "update characters set enriched_at = now() - interval '30 days' where name = 'K1'")
    sql(
        db,
        "insert into characters (region, flavor, realm_id, realm_slug, blizzard_id, name, "
        "level, last_login_at, enriched_at) values "
        "('us', 'retail', 1, 'area-52', 7, 'Active', 80, now() - interval '1 hour', "
        "now() - interval '9 hours')",
    )  # active: 9 hours of 6
    assert repo.queue.run_job("enqueue_bulk_work") == 2
    names = [r["name"] for r in sql(db, "select message->>'name' as name from "
                                        "pgmq.q_character_refresh order by msg_id")]  # fmt: skip
    assert names == ["K1", "Active"]  # 30 of 7 days (4.3x), then 9 of 6 hours (1.5x)


def test_account_syncs_and_rosters_are_in_the_same_plan(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    window(db, bulk_cap=30)
    costs(db, refresh_character=(10, 10), profile_sync=(5, 5), guild_roster=(5, 5))
    users = [login(repo, n) for n in (1, 2)]
    for i, user in enumerate(users):
        start(repo, user, [char(i * 100 + k, f"U{i}C{k}") for k in range(12)])
    sql(db, "delete from pgmq.q_character_sync")
    sql(
        db,
        "update users set auto_sync = 'daily', last_profile_sync_at = now() - interval '2 days'",
    )
    sql(db, "update characters set enriched_at = now()")  # the users' characters are fresh
    sql(
        db,
        "insert into guilds (region, flavor, blizzard_id, name, slug, realm_id, realm_slug) "
        "values ('us','retail',1,'Ours','ours',1,'area-52')",
    )
    sql(db, "update characters set guild_id = (select id from guilds) where name = 'U0C0'")
    known_characters(db, 50)
    # an account sync costs 1 + its 12 characters' refreshes: 13; two of them, 26 of 30
    assert repo.queue.run_job("enqueue_bulk_work") == 2 + 1 + 3
    p = plan(db)
    assert p["due"] == {"profileSyncs": 2, "guildRosters": 1, "characterRefreshes": 50}
    assert p["enqueued"] == {"profileSyncs": 2, "guildRosters": 1, "characterRefreshes": 3}
    assert p["expectedRequests"] == 30.0
    assert (depth(db, "profile_sync"), depth(db, "guild_roster")) == (2, 1)


def test_users_who_turned_auto_sync_off_are_not_planned(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    window(db, bulk_cap=100)
    user = login(repo)
    start(repo, user, [char(1, "Mine")])
    sql(db, "delete from pgmq.q_character_sync")
    sql(
        db,
        "update users set auto_sync = 'off', last_profile_sync_at = now() - interval '2 days'",
    )
    sql(db, "update characters set enriched_at = now() - interval '30 days'")
    assert repo.queue.run_job("enqueue_bulk_work") == 0
    assert plan(db)["due"] == {"profileSyncs": 0, "guildRosters": 0, "characterRefreshes": 0}


def test_a_run_takes_what_falls_due_before_the_next_one(db: PsycopgDatabase) -> None:
    """An active character 4 h 30 min into its 6 h is taken now (the next run is an hour away
    and its work is paced over the hour after it); one 3 h in is not; a new roster member is
    due an hour after it was seen."""
    repo = Repositories.over(db)
    window(db, bulk_cap=100)
    sql(
        db,
        "insert into characters (region, flavor, realm_id, realm_slug, blizzard_id, name, "
        "level, last_login_at, enriched_at, created_at) values "
        "('us', 'retail', 1, 'area-52', 1, 'Soon', 80, now(), now() - interval '270 minutes', "
        " now() - interval '30 days'), "
        "('us', 'retail', 1, 'area-52', 2, 'Later', 80, now(), now() - interval '3 hours', "
        " now() - interval '30 days'), "
        "('us', 'retail', 1, 'area-52', 3, 'NewMember', null, null, null, "
        " now() - interval '90 minutes'), "
        "('us', 'retail', 1, 'area-52', 4, 'JustSeen', null, null, null, now())",
    )
    assert repo.queue.run_job("enqueue_bulk_work") == 2
    names = {r["name"] for r in sql(db, "select message->>'name' as name "
                                        "from pgmq.q_character_refresh")}  # fmt: skip
    assert names == {"Soon", "NewMember"}
