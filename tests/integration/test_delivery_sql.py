"""Delivery SQL: claims that count the job's attempts and rotate between users, settles that
only touch their own delivery, pauses that give the attempt back, visibility extensions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repository import SqlRepository

QUEUE = "delivery_test"


@pytest.fixture
def repo(db: PsycopgDatabase) -> SqlRepository:
    with db.connection() as conn:
        conn.execute("select pgmq.create(%s)", (QUEUE,))
        conn.execute("select pgmq.purge_queue(%s)", (QUEUE,))
    return SqlRepository(db)


def send(db: PsycopgDatabase, *messages: dict[str, Any]) -> None:
    with db.connection() as conn:
        for message in messages:
            conn.execute("select pgmq.send(%s, %s::jsonb)", (QUEUE, json.dumps(message)))


def expire(db: PsycopgDatabase) -> None:
    """Make every message visible again (as if its visibility timeout ran out)."""
    with db.connection() as conn:
        conn.execute(f"update pgmq.q_{QUEUE} set vt = now() - interval '1 second'")


def headers(db: PsycopgDatabase, msg_id: int) -> dict[str, Any]:
    with db.connection() as conn:
        row = conn.execute(f"select headers from pgmq.q_{QUEUE} where msg_id = %s", (msg_id,))
        return dict(row.fetchone()["headers"] or {})  # type: ignore[index]


def test_claim_counts_attempts_and_hides(db: PsycopgDatabase, repo: SqlRepository) -> None:
    send(db, {"n": 1}, {"n": 2}, {"n": 3})
    first = repo.queue_claim(QUEUE, 30, 2, fair=False)
    assert [d.message["n"] for d in first] == [1, 2]
    assert all(d.attempts == 1 and d.read_ct == 1 for d in first)
    assert [d.message["n"] for d in repo.queue_claim(QUEUE, 30, 5, fair=False)] == [3]
    assert repo.queue_claim(QUEUE, 30, 5, fair=False) == []
    expire(db)
    again = repo.queue_claim(QUEUE, 30, 5, fair=False)
    assert {d.attempts for d in again} == {2}


def test_stale_delivery_cannot_settle(db: PsycopgDatabase, repo: SqlRepository) -> None:
    send(db, {"n": 1})
    stale = repo.queue_claim(QUEUE, 30, 1, fair=False)[0]
    expire(db)
    fresh = repo.queue_claim(QUEUE, 30, 1, fair=False)[0]
    assert fresh.read_ct == stale.read_ct + 1
    assert repo.queue_settle(stale, "delete") is False
    assert repo.queue_settle(stale, "dead", reason="x") is False
    assert repo.queue_settle(stale, "retry", 0) is False  # cannot shorten the new timeout
    assert repo.queue_extend(QUEUE, [stale], 600) == 0
    assert repo.queue_claim(QUEUE, 30, 1, fair=False) == []  # still hidden for the fresh one
    assert repo.queue_extend(QUEUE, [fresh], 600) == 1
    assert repo.queue_settle(fresh, "delete") is True


def test_pause_gives_the_attempt_back(db: PsycopgDatabase, repo: SqlRepository) -> None:
    send(db, {"n": 1})
    delivery = repo.queue_claim(QUEUE, 30, 1, fair=False)[0]
    assert repo.queue_settle(delivery, "pause", 0, "window") is True
    assert headers(db, delivery.msg_id)["paused"] == "window"
    again = repo.queue_claim(QUEUE, 30, 1, fair=False)[0]
    assert again.attempts == 1 and again.read_ct == 2
    assert "paused" not in headers(db, again.msg_id)
    assert repo.queue_settle(again, "retry", 0) is True
    assert repo.queue_claim(QUEUE, 30, 1, fair=False)[0].attempts == 2


def test_dead_letter_keeps_the_reason(db: PsycopgDatabase, repo: SqlRepository) -> None:
    send(db, {"n": 1})
    delivery = repo.queue_claim(QUEUE, 30, 1, fair=False)[0]
    assert repo.queue_settle(delivery, "dead", reason="Battle.net answered 503") is True
    with db.connection() as conn:
        archived = conn.execute(f"select message from pgmq.a_{QUEUE}").fetchall()
    assert archived[0]["message"]["deadLetter"]["error"] == "Battle.net answered 503"
    assert archived[0]["message"]["deadLetter"]["attempts"] == 1


def test_fair_claims_rotate_between_users(db: PsycopgDatabase, repo: SqlRepository) -> None:
    send(db, *[{"userId": "flood", "n": i} for i in range(20)])
    send(db, {"userId": "a", "n": 100}, {"userId": "b", "n": 200}, {"userId": "a", "n": 101})
    claimed = repo.queue_claim(QUEUE, 30, 4, fair=True)
    users = [d.message["userId"] for d in claimed]
    assert sorted(users) == ["a", "b", "flood", "flood"]  # everyone's first, then seconds
    # Unfair claims take the oldest first: the flood only.
    expire(db)
    assert {d.message["userId"] for d in repo.queue_claim(QUEUE, 30, 4, fair=False)} == {"flood"}
