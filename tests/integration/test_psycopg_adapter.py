"""The psycopg adapter against the real Postgres and pgmq."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from devtools.pgcluster import Cluster
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.errors import DatabaseSchemaError, DatabaseUnavailable


def test_upsert_rows_one_statement(db: PsycopgDatabase) -> None:
    rows = [{"flavor": "retail", "id": i, "name": f"c{i}"} for i in range(3)]
    assert len(db.upsert_rows("wow_classes", rows, "flavor,id")) == 3
    stored = db.upsert_rows(
        "wow_classes", [{"flavor": "retail", "id": 1, "name": "new"}], "flavor,id"
    )
    assert stored[0]["name"] == "new"


def test_driver_errors_are_wrapped(db: PsycopgDatabase) -> None:
    with pytest.raises(DatabaseSchemaError, match="UndefinedTable") as raised:
        db.upsert_rows("no_such_table", [{"a": 1}], "a")
    assert raised.value.sqlstate == "42P01"
    assert raised.value.context["statement"] == "upsert no_such_table"
    assert raised.value.status == 500


def test_a_schema_error_names_the_statement_and_its_sqlstate(db: PsycopgDatabase) -> None:
    """A missing function is the schema's fault, not the database's absence."""
    with db.connection() as conn:
        conn.execute("alter function public.queue_depths() rename to queue_depths_gone")
    try:
        with pytest.raises(DatabaseSchemaError) as raised:
            db.rpc("queue_depths", {})
    finally:
        with db.connection() as conn:
            conn.execute("alter function public.queue_depths_gone() rename to queue_depths")
    assert raised.value.sqlstate == "42883"  # undefined_function
    assert "in queue_depths" in raised.value.message


def test_unreachable_database_is_unavailable() -> None:
    dead = PsycopgDatabase("postgresql://postgres@127.0.0.1:9/postgres?connect_timeout=1")
    dead.pool.timeout = 1.0
    with pytest.raises(DatabaseUnavailable) as raised:
        dead.rpc("upsert_static_data", {"p_data": []})
    assert raised.value.status == 503
    assert "try again" in raised.value.public_message
    dead.close()


def test_statement_timeout_is_per_call_and_leaves_nothing_on_the_session(
    cluster: Cluster, db: PsycopgDatabase
) -> None:
    short = PsycopgDatabase(db.dsn, max_size=1, statement_timeout_ms=300)
    row = [{"flavor": "retail", "id": 1, "name": "Warrior"}]
    with psycopg.connect(cluster.dsn()) as locker:  # holds a lock in a transaction of its own
        # bounded even without the timeout under test: the server ends the locker after 5 s
        locker.execute("set idle_in_transaction_session_timeout = 5000")
        locker.execute("lock table wow_classes in access exclusive mode")
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="QueryCanceled"):
            short.upsert_rows("wow_classes", row, "flavor,id")
        assert time.monotonic() - started < 5
    assert short.upsert_rows("wow_classes", row, "flavor,id")[0]["name"] == "Warrior"
    with short.connection() as conn:  # the pool's only connection: the one the calls used
        assert conn.execute("show statement_timeout").fetchone() == {"statement_timeout": "0"}
        assert conn.info.transaction_status == TransactionStatus.IDLE
    short.close()


def test_a_call_is_one_round_trip_and_prepares_nothing(db: PsycopgDatabase, tmp_path: Path) -> None:
    one = PsycopgDatabase(db.dsn, max_size=1)
    claim = {"p_queue": "character_sync", "p_vt": 1, "p_qty": 1, "p_fair": True}
    calls = 8  # past psycopg's default prepare threshold (5)
    with (tmp_path / "protocol.trace").open("w") as trace:
        with one.connection() as conn:
            conn.pgconn.trace(trace.fileno())
        try:
            for _ in range(calls):
                one.fetch_all("queue_claim", claim)
        finally:
            with one.connection() as conn:
                conn.pgconn.untrace()
            one.close()
    sent = [
        line.split("\t")
        for line in (tmp_path / "protocol.trace").read_text().splitlines()
        if line.split("\t")[1:2] == ["F"]
    ]
    queries = [m for m in sent if m[3] == "Query" and m[4] != ' ""']  # '""': the pool's check
    assert len(queries) == calls  # the timeout and the statement travel in one message
    assert all("statement_timeout" in m[4] for m in queries)
    assert [m for m in sent if m[3] in ("Parse", "Sync")] == []  # nothing is prepared
