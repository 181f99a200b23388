"""The limits one client cannot get around, on the real Postgres: per-user quotas (exact under
concurrency, nothing written past them), enrichments within the quota, open streams per user,
and the pruning job's second half. Login starts and login-state pruning:
`test_login_sql.py`."""

from __future__ import annotations

import threading

import psycopg
import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from tests.integration.helpers import as_role, char, login, sql, start

HOUR = 3600


def quota_rows(db: PsycopgDatabase, user: str, kind: str) -> int:
    rows = sql(
        db,
        "select count(*) as n from user_quota_events where user_id = %s and kind = %s",
        user,
        kind,
    )
    return int(rows[0]["n"])


def test_a_quota_takes_up_to_its_limit_then_refuses_without_writing(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    alice, bob = login(repo, 1), login(repo, 2)
    answers = [repo.limits.quota_take(alice, "sync", 3, HOUR) for _ in range(5)]
    assert [a.ok for a in answers] == [True, True, True, False, False]
    assert HOUR - 5 <= answers[3].retry_after <= HOUR  # the oldest leaves in about an hour
    assert quota_rows(db, alice, "sync") == 3
    assert repo.limits.quota_take(alice, "enrich", 3, HOUR).ok  # another kind
    assert repo.limits.quota_take(bob, "sync", 3, HOUR).ok  # another user


def test_retry_after_counts_to_when_the_oldest_event_leaves_the_window(
    db: PsycopgDatabase,
) -> None:
    repo = Repositories.over(db)
    alice = login(repo, 1)
    for _ in range(2):
        assert repo.limits.quota_take(alice, "sync", 2, HOUR).ok
    sql(
        db,
        "update user_quota_events set taken_at = now() - interval '50 minutes' "
        "where taken_at = (select min(taken_at) from user_quota_events)",
    )
    refused = repo.limits.quota_take(alice, "sync", 2, HOUR)
    assert not refused.ok and 595 <= refused.retry_after <= 601
    sql(db, "update user_quota_events set taken_at = taken_at - interval '10 minutes'")
    assert repo.limits.quota_take(alice, "sync", 2, HOUR).ok  # the oldest left the rolling hour
    assert quota_rows(db, alice, "sync") == 2  # and was deleted on the way


def test_concurrent_takes_are_exact(db: PsycopgDatabase) -> None:
    alice = login(Repositories.over(db), 1)
    many = PsycopgDatabase(db.dsn, max_size=8)
    repo = Repositories.over(many)
    results: list[bool] = []
    gate = threading.Barrier(8)

    def take() -> None:
        gate.wait()
        for _ in range(3):
            results.append(repo.limits.quota_take(alice, "sync", 10, HOUR).ok)

    threads = [threading.Thread(target=take) for _ in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        many.close()
    assert len(results) == 24 and results.count(True) == 10
    assert quota_rows(db, alice, "sync") == 10


def enrichable(repo: Repositories, user: str) -> list[int]:
    """Two characters of the user, with their account sync finished."""
    session = start(repo, user, [char(1, "A"), char(2, "B")])
    ids = [int(c["id"]) for c in session["characters"]]
    return ids


def test_enrichments_take_quota_only_when_they_queue_one(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    alice = login(repo, 1)
    first, second = enrichable(repo, alice)
    sql(db, "update character_sync_sessions set status = 'completed'")
    queued = repo.sessions.enqueue_character_enrichment(alice, first, "character_sync", 1, HOUR)
    assert queued is not None and queued.answer["pending"] is False
    again = repo.sessions.enqueue_character_enrichment(alice, first, "character_sync", 1, HOUR)
    assert again is not None and again.answer["pending"] is True  # the pending one: no quota
    assert (
        repo.sessions.enqueue_character_enrichment(alice, 999_999, "character_sync", 1, HOUR)
        is None
    )
    before = sql(
        db,
        "select (select count(*) from character_sync_sessions) as sessions, "
        "(select count(*) from pgmq.q_character_sync) as messages",
    )
    refused = repo.sessions.enqueue_character_enrichment(alice, second, "character_sync", 1, HOUR)
    assert refused is not None and refused.quota_exceeded and refused.answer == {}
    assert HOUR - 5 <= refused.retry_after <= HOUR
    after = sql(
        db,
        "select (select count(*) from character_sync_sessions) as sessions, "
        "(select count(*) from pgmq.q_character_sync) as messages",
    )
    assert after == before  # nothing written: no session, no message
    assert quota_rows(db, alice, "enrich") == 1
    operator = repo.sessions.enqueue_character_enrichment(
        alice, second, "character_sync"
    )  # no limit
    assert operator is not None and operator.answer["pending"] is False
    assert quota_rows(db, alice, "enrich") == 1


def test_open_streams_are_capped_per_user(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    alice, bob = login(repo, 1), login(repo, 2)
    opened = [repo.limits.stream_open(alice, 2, 60, 300) for _ in range(2)]
    assert all(a.ok and a.id for a in opened)
    refused = repo.limits.stream_open(alice, 2, 60, 300)
    assert not refused.ok and 1 <= refused.retry_after <= 60
    assert repo.limits.stream_open(bob, 2, 60, 300).ok
    assert sql(db, "select count(*) as n from open_event_streams")[0]["n"] == 3  # none refused
    assert opened[0].id is not None
    repo.limits.stream_close(opened[0].id)
    assert repo.limits.stream_open(alice, 2, 60, 300).ok


def test_a_stream_that_stops_touching_lapses(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    alice = login(repo, 1)
    live, dead = (repo.limits.stream_open(alice, 2, 60, 300) for _ in range(2))
    assert live.id and dead.id
    sql(db, "update open_event_streams set expires_at = now() - interval '1 second'")
    assert repo.limits.stream_touch(live.id, 60)  # the live one's heartbeat comes back
    assert repo.limits.stream_open(alice, 2, 60, 300).ok  # the lapsed one no longer counts
    assert not repo.limits.stream_open(alice, 2, 60, 300).ok
    expires = sql(db, "select expires_at <= ends_by as ok from open_event_streams")
    assert all(r["ok"] for r in expires)  # never beyond the stream's maximum life
    sql(db, "update open_event_streams set expires_at = now() - interval '1 second'")
    sql(
        db,
        "insert into user_quota_events (user_id, kind, taken_at) "
        "values (%s, 'sync', now() - interval '2 hours'), (%s, 'sync', now())",
        alice,
        alice,
    )
    with db.connection() as conn:
        pruned = conn.execute("select public.prune_usage_limits() as n").fetchone()
    assert pruned == {"n": 3}  # two stream rows, one old quota event
    assert not repo.limits.stream_touch(live.id, 60)


@pytest.mark.parametrize(
    "call",
    [
        "select public.quota_take('{u}', 'sync', 1, 3600)",
        "select public.request_character_enrichment('{u}', 1, 'character_sync', 1, 3600)",
        "select public.stream_open('{u}', 1, 60, 300)",
        "select public.stream_touch(gen_random_uuid(), 60)",
        "select public.stream_close(gen_random_uuid())",
    ],
)
@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_clients_cannot_call_the_limit_functions(db: PsycopgDatabase, call: str, role: str) -> None:
    alice = login(Repositories.over(db), 7)
    with as_role(db.dsn, role, alice if role == "authenticated" else None) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(call.format(u=alice))  # type: ignore[arg-type]


def test_clients_cannot_read_the_limit_tables(db: PsycopgDatabase) -> None:
    alice = login(Repositories.over(db), 7)
    for table in ("user_quota_events", "open_event_streams", "login_starts"):
        with as_role(db.dsn, "authenticated", alice) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {table}")  # type: ignore[arg-type]
