"""The psycopg adapter against the real Postgres and pgmq."""

from __future__ import annotations

import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.errors import DataError


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
