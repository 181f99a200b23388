"""The psycopg adapter against the real Postgres and pgmq."""

from __future__ import annotations

import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.errors import DataError

QUEUE = "adapter_test"


@pytest.fixture
def queue(db: PsycopgDatabase) -> str:
    with db.connection() as conn:
        conn.execute("select pgmq.create(%s)", (QUEUE,))
        conn.execute("select pgmq.purge_queue(%s)", (QUEUE,))
    return QUEUE


def test_queue_round_trip(db: PsycopgDatabase, queue: str) -> None:
    ids = db.queue_send_batch(queue, [{"n": 1}, {"n": 2}, {"n": 3}])
    assert len(ids) == 3
    claimed = db.queue_read(queue, 30, 2)
    assert [m.message["n"] for m in claimed] == [1, 2] and all(m.read_ct == 1 for m in claimed)
    assert db.queue_read(queue, 30, 5)[0].message == {"n": 3}
    assert db.queue_read(queue, 30, 5) == []  # all invisible now
    assert db.queue_archive(queue, claimed[0].msg_id) is True
    assert db.queue_delete(queue, claimed[1].msg_id) is True
    assert db.queue_delete(queue, claimed[1].msg_id) is False


def test_upsert_rows_one_statement(db: PsycopgDatabase) -> None:
    rows = [{"flavor": "retail", "id": i, "name": f"c{i}"} for i in range(3)]
    assert len(db.upsert_rows("wow_classes", rows, "flavor,id")) == 3
    stored = db.upsert_rows(
        "wow_classes", [{"flavor": "retail", "id": 1, "name": "new"}], "flavor,id"
    )
    assert stored[0]["name"] == "new"


def test_driver_errors_are_wrapped(db: PsycopgDatabase) -> None:
    with pytest.raises(DataError, match="UndefinedTable"):
        db.upsert_rows("no_such_table", [{"a": 1}], "a")


def test_unreachable_database_is_a_data_error() -> None:
    dead = PsycopgDatabase("postgresql://postgres@127.0.0.1:9/postgres?connect_timeout=1")
    dead.pool.timeout = 1.0
    with pytest.raises(DataError):
        dead.rpc("upsert_static_data", {"p_data": []})
    dead.close()
