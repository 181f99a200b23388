"""Delivery SQL: claims that count the job's attempts and rotate between users, settles that
only touch their own delivery, pauses that give the attempt back, visibility extensions."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.db.characters import refresh_record
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.queue import Finished, Record
from shared.db.repositories import Repositories
from shared.jobs.queues import PRIORITY

QUEUE = "delivery_test"


@pytest.fixture
def repo(db: PsycopgDatabase) -> Repositories:
    with db.connection() as conn:
        conn.execute("select pgmq.create(%s)", (QUEUE,))
        conn.execute("select pgmq.purge_queue(%s)", (QUEUE,))
    return Repositories.over(db)


def send(db: PsycopgDatabase, *messages: dict[str, Any]) -> None:
    with db.connection() as conn:
        for message in messages:
            conn.execute("select pgmq.send(%s, %s::jsonb)", (QUEUE, json.dumps(message)))


def expire(db: PsycopgDatabase) -> None:
    """Make every message visible again (as if its visibility timeout ran out)."""
    with db.connection() as conn:
        conn.execute(f"update pgmq.q_{QUEUE} set vt = now() - interval '1 second'")


def delivery_row(db: PsycopgDatabase, msg_id: int) -> dict[str, Any] | None:
    """What the project keeps per delivery beside pgmq's five columns (queue_deliveries: a row
    only for a delivery that was paused or retried; attempts are read_ct less the pauses)."""
    with db.connection() as conn:
        row = conn.execute(
            "select pauses, paused, last_error from queue_deliveries "
            "where queue = %s and msg_id = %s",
            (QUEUE, msg_id),
        ).fetchone()
    return dict(row) if row else None


def test_the_queue_table_has_only_hosted_pgmq_columns(
    db: PsycopgDatabase, repo: Repositories
) -> None:
    """pgmq 1.4.4's five columns, and the SQL touches nothing else (tests run on 1.4.4 and
    1.5.1; 1.5.1 adds headers, which the code never reads)."""
    with db.connection() as conn:
        columns = {
            r["attname"]
            for r in conn.execute(
                "select attname from pg_attribute where attrelid = %s::regclass "
                "and attnum > 0 and not attisdropped",
                (f"pgmq.q_{QUEUE}",),
            )
        }
    assert {"msg_id", "read_ct", "enqueued_at", "vt", "message"} <= columns
    assert "last_read_at" not in columns


def test_a_settled_message_leaves_no_delivery_row(db: PsycopgDatabase, repo: Repositories) -> None:
    send(db, {"n": 1}, {"n": 2}, {"n": 3})
    done, dead, purged = repo.queue.queue_claim(QUEUE, 30, 3, fair=False)
    assert delivery_row(db, done.msg_id) is None  # a claim writes nothing of its own
    for delivery in (done, dead, purged):
        assert repo.queue.queue_settle(delivery, "retry", 0, "503") is True
    done, dead, purged = repo.queue.queue_claim(QUEUE, 30, 3, fair=False)
    assert delivery_row(db, done.msg_id) == {"pauses": 0, "paused": None, "last_error": "503"}
    assert repo.queue.queue_settle(done, "delete") is True
    assert repo.queue.queue_settle(dead, "dead", reason="x") is True
    assert delivery_row(db, done.msg_id) is None and delivery_row(db, dead.msg_id) is None
    with db.connection() as conn:  # gone another way: the sweep removes its row
        conn.execute("select pgmq.delete(%s, %s::bigint)", (QUEUE, purged.msg_id))
        swept = conn.execute("select public.sweep_queue_deliveries() as n").fetchone()
    assert swept == {"n": 1}
    assert delivery_row(db, purged.msg_id) is None


def test_a_retry_keeps_its_reason(db: PsycopgDatabase, repo: Repositories) -> None:
    send(db, {"n": 1})
    delivery = repo.queue.queue_claim(QUEUE, 30, 1, fair=False)[0]
    assert repo.queue.queue_settle(delivery, "retry", 0, "Battle.net answered 503") is True
    assert delivery_row(db, delivery.msg_id)["last_error"] == "Battle.net answered 503"  # type: ignore[index]


def test_claim_counts_attempts_and_hides(db: PsycopgDatabase, repo: Repositories) -> None:
    send(db, {"n": 1}, {"n": 2}, {"n": 3})
    first = repo.queue.queue_claim(QUEUE, 30, 2, fair=False)
    assert [d.message["n"] for d in first] == [1, 2]
    assert all(d.attempts == 1 and d.read_ct == 1 for d in first)
    assert [d.message["n"] for d in repo.queue.queue_claim(QUEUE, 30, 5, fair=False)] == [3]
    assert repo.queue.queue_claim(QUEUE, 30, 5, fair=False) == []
    expire(db)
    again = repo.queue.queue_claim(QUEUE, 30, 5, fair=False)
    assert {d.attempts for d in again} == {2}


def test_stale_delivery_cannot_settle(db: PsycopgDatabase, repo: Repositories) -> None:
    send(db, {"n": 1})
    stale = repo.queue.queue_claim(QUEUE, 30, 1, fair=False)[0]
    expire(db)
    fresh = repo.queue.queue_claim(QUEUE, 30, 1, fair=False)[0]
    assert fresh.read_ct == stale.read_ct + 1
    assert repo.queue.queue_settle(stale, "delete") is False
    assert repo.queue.queue_settle(stale, "dead", reason="x") is False
    assert repo.queue.queue_settle(stale, "retry", 0) is False  # cannot shorten the new timeout
    assert repo.queue.queue_extend(QUEUE, [stale], 600) == 0
    assert repo.queue.queue_claim(QUEUE, 30, 1, fair=False) == []  # still hidden for the fresh one
    assert repo.queue.queue_extend(QUEUE, [fresh], 600) == 1
    assert repo.queue.queue_settle(fresh, "delete") is True


def test_pause_gives_the_attempt_back(db: PsycopgDatabase, repo: Repositories) -> None:
    send(db, {"n": 1})
    delivery = repo.queue.queue_claim(QUEUE, 30, 1, fair=False)[0]
    assert repo.queue.queue_settle(delivery, "pause", 0, "window") is True
    assert delivery_row(db, delivery.msg_id) == {
        "pauses": 1, "paused": "window", "last_error": None,
    }  # fmt: skip
    again = repo.queue.queue_claim(QUEUE, 30, 1, fair=False)[0]
    assert again.attempts == 1 and again.read_ct == 2
    assert delivery_row(db, again.msg_id)["paused"] is None  # type: ignore[index]
    assert repo.queue.queue_settle(again, "retry", 0) is True
    assert repo.queue.queue_claim(QUEUE, 30, 1, fair=False)[0].attempts == 2


def test_dead_letter_keeps_the_reason(db: PsycopgDatabase, repo: Repositories) -> None:
    send(db, {"n": 1})
    delivery = repo.queue.queue_claim(QUEUE, 30, 1, fair=False)[0]
    assert repo.queue.queue_settle(delivery, "dead", reason="Battle.net answered 503") is True
    with db.connection() as conn:
        archived = conn.execute(f"select message from pgmq.a_{QUEUE}").fetchall()
    assert archived[0]["message"]["deadLetter"]["error"] == "Battle.net answered 503"
    assert archived[0]["message"]["deadLetter"]["attempts"] == 1


def test_fair_claims_rotate_between_users(db: PsycopgDatabase, repo: Repositories) -> None:
    send(db, *[{"userId": "flood", "n": i} for i in range(20)])
    send(db, {"userId": "a", "n": 100}, {"userId": "b", "n": 200}, {"userId": "a", "n": 101})
    claimed = repo.queue.queue_claim(QUEUE, 30, 4, fair=True)
    users = [d.message["userId"] for d in claimed]
    assert sorted(users) == ["a", "b", "flood", "flood"]  # everyone's first, then seconds
    # Unfair claims take the oldest first: the flood only.
    expire(db)
    assert {d.message["userId"] for d in repo.queue.queue_claim(QUEUE, 30, 4, fair=False)} == {
        "flood"
    }


def test_one_claim_takes_from_the_first_queue_with_work(
    db: PsycopgDatabase, repo: Repositories
) -> None:
    with db.connection() as conn:
        conn.execute("select pgmq.create('delivery_empty')")
        conn.execute("select pgmq.purge_queue('delivery_empty')")
    send(db, {"n": 1}, {"n": 2}, {"n": 3})
    wanted = [("delivery_empty", 5, True), (QUEUE, 2, False)]
    queue, claimed = repo.queue.queue_claim_first(wanted, 30)  # type: ignore[misc]
    assert queue == QUEUE and [d.message["n"] for d in claimed] == [1, 2]
    assert all(d.queue == QUEUE and d.attempts == 1 for d in claimed)
    assert repo.queue.queue_claim_first([("delivery_empty", 5, True)], 30) is None


def test_each_queue_claims_through_a_function_of_its_own(db: PsycopgDatabase) -> None:
    """A claim's statement names its queue's table in a function of its own (its plan kept
    for the session), not in a string run by EXECUTE (planned anew on every call); only the
    service role may call it."""
    with db.connection() as conn:
        for queue in PRIORITY:
            row = conn.execute(
                "select p.prosrc, p.proconfig, "
                "has_function_privilege('service_role', p.oid, 'execute') as service, "
                "has_function_privilege('anon', p.oid, 'execute') as anon "
                "from pg_proc p where p.oid = to_regprocedure(%s)",
                (f"public.claim_q_{queue.value}(integer,integer,boolean)",),
            ).fetchone()
            assert row is not None, queue
            assert f"pgmq.q_{queue.value} q" in row["prosrc"]
            assert "execute" not in row["prosrc"].lower()
            assert "plan_cache_mode=force_generic_plan" in row["proconfig"]
            assert row["service"] and not row["anon"]


def test_a_queue_made_later_gets_its_claim_on_the_first_claim(db: PsycopgDatabase) -> None:
    """Two consumers claiming from a queue with no claim function yet, at once: one makes it,
    both claim, no message twice."""
    queue = f"delivery_late_{uuid.uuid4().hex[:8]}"
    with db.connection() as conn:
        conn.execute("select pgmq.create(%s)", (queue,))
        conn.execute(
            "select pgmq.send_batch(%s, array_agg(jsonb_build_object('n', n))) "
            "from generate_series(1, 6) n",
            (queue,),
        )
    try:
        barrier = threading.Barrier(2)

        def claim() -> list[int]:
            barrier.wait(timeout=10)
            claimed = Repositories.over(db).queue.queue_claim(queue, 30, 3, fair=False)
            return [d.message["n"] for d in claimed]

        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(lambda _: claim(), range(2))
        assert sorted(first + second) == [1, 2, 3, 4, 5, 6]
    finally:
        with db.connection() as conn:
            conn.execute("select pgmq.drop_queue(%s)", (queue,))
            conn.execute(f"drop function if exists public.claim_q_{queue}")


def test_complete_records_and_deletes_a_batch_in_one_call(
    db: PsycopgDatabase, repo: Repositories
) -> None:
    """Each finished delivery's record applied, then its message deleted, only as itself; a
    record that fails keeps its message (and the others go on)."""
    with db.connection() as conn:
        character_id = conn.execute(
            "insert into characters (region, flavor, realm_id, realm_slug, blizzard_id, name) "
            "values ('us', 'retail', 1, 'area-52', 4242, 'Batch') returning id"
        ).fetchone()["id"]  # type: ignore[index]
    send(db, {"n": 1}, {"n": 2}, {"n": 3}, {"n": 4})
    ok, bad, stale, plain = repo.queue.queue_claim(QUEUE, 30, 4, fair=False)
    expire(db)
    with db.connection() as conn:  # `stale` was claimed again by someone else
        conn.execute(f"update pgmq.q_{QUEUE} set read_ct = read_ct + 1 where msg_id = %s",
                     (stale.msg_id,))  # fmt: skip
    completed = repo.queue.queue_complete(
        QUEUE,
        [
            Finished(ok, refresh_record(character_id, "not_modified", None)),
            Finished(bad, Record("character_refresh", {"characterId": character_id,
                                                       "result": "teleported", "data": None})),
            Finished(stale, refresh_record(character_id, "not_modified", None)),
            Finished(plain),
        ],
    )  # fmt: skip
    assert completed.deleted == {ok.msg_id, plain.msg_id}
    assert set(completed.failed) == {bad.msg_id}
    assert "unknown refresh result teleported" in completed.failed[bad.msg_id]
    with db.connection() as conn:
        left = {r["msg_id"] for r in conn.execute(f"select msg_id from pgmq.q_{QUEUE}")}
        refreshed = conn.execute(
            "select refreshed_at from characters where id = %s", (character_id,)
        ).fetchone()
    assert left == {bad.msg_id, stale.msg_id}
    assert refreshed["refreshed_at"] is not None  # type: ignore[index]
    assert delivery_row(db, ok.msg_id) is None
