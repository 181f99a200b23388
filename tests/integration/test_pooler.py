"""The psycopg adapter behind pgbouncer in transaction mode (what Supabase's pooler on port
6543 does to a client). The handler and end-to-end suites run through it once more with
GUILD_SYNC_TEST_POOLER=1; these tests pin the adapter's side and the pooler's strictness."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from devtools.pooler import Pooler
from shared.db.psycopg_adapter import PsycopgDatabase

CALLS = 120


@pytest.fixture
def pooled(pooler: Pooler, db: PsycopgDatabase) -> Iterator[PsycopgDatabase]:
    database = PsycopgDatabase(pooler.dsn(), max_size=4, statement_timeout_ms=5_000)
    yield database
    database.close()


def test_concurrent_calls_through_a_transaction_pooler(pooled: PsycopgDatabase) -> None:
    def call(i: int) -> int:
        pooled.upsert_rows(
            "wow_classes", [{"flavor": "retail", "id": i % 7, "name": f"c{i}"}], "flavor,id"
        )
        claim = {"p_queue": "character_sync", "p_vt": 1, "p_qty": 1, "p_fair": True}
        return len(pooled.rpc("queue_claim", claim))

    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(call, range(CALLS))) == 0
    with pooled.connection() as conn:  # whichever server connection answers: nothing was left
        row = conn.execute("select current_setting('statement_timeout') as t").fetchone()
        assert row == {"t": "0"}
        assert conn.execute("select count(*) as n from pg_prepared_statements").fetchone() == {
            "n": 0
        }


def test_the_pooler_refuses_what_a_transaction_pooler_refuses(pooler: Pooler) -> None:
    """The harness is strict enough to catch a regression: startup options are refused and
    prepared statements do not survive from one transaction to the next."""
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter"):
        psycopg.connect(pooler.dsn(), options="-c statement_timeout=1000").close()
    clients = [
        psycopg.connect(pooler.dsn(), autocommit=True, prepare_threshold=0) for _ in range(2)
    ]
    try:
        with pytest.raises(psycopg.errors.DatabaseError, match="prepared statement"):
            for i in range(10):
                clients[i % 2].execute("select count(*) from wow_classes").fetchall()
    finally:
        for client in clients:
            client.close()
