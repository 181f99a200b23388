"""public.upsert_static_data on the real Postgres, and RLS on the static tables."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from shared.db.static_data import TableCount


def entry(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "region": "eu",
        "flavor": "retail",
        "gameVersion": "retail",
        "classes": [{"id": 1, "name": "Warrior"}, {"id": 13, "name": "Evoker"}],
        "races": [
            {
                "id": 24,
                "name": "Pandaren",
                "faction": "NEUTRAL",
                "is_allied_race": False,
                "is_selectable": True,
            }
        ],
        "realms": [
            {
                "id": 1,
                "slug": "aggra-português",
                "name": "Aggra (Português)",
                "category": "Portuguese",
                "timezone": "Europe/Paris",
                "type": "NORMAL",
                "locale": "ptPT",
                "connected_realm_id": 1,
                "is_tournament": False,
            },
        ],
    }
    base.update(over)
    return base


def test_upsert_counts_and_second_run_changes_nothing(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    first = repo.static_data.upsert_static_data([entry()])[0]
    assert first.tables["classes"] == TableCount(total=2, inserted=2, updated=0)
    assert first.tables["realms"] == TableCount(total=1, inserted=1, updated=0)
    with db.connection() as conn:
        stamps = conn.execute("select updated_at from wow_realms").fetchall()
    second = repo.static_data.upsert_static_data([entry()])[0]
    assert second.tables["classes"] == TableCount(total=2, inserted=0, updated=0)
    assert second.tables["races"] == TableCount(total=1, inserted=0, updated=0)
    with db.connection() as conn:
        assert conn.execute("select updated_at from wow_realms").fetchall() == stamps
        assert conn.execute("select faction from wow_races").fetchone() == {"faction": "NEUTRAL"}


def test_changed_row_is_updated(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    repo.static_data.upsert_static_data([entry()])
    renamed = entry(classes=[{"id": 1, "name": "Krieger"}, {"id": 13, "name": "Evoker"}])
    assert repo.static_data.upsert_static_data([renamed])[0].tables["classes"].updated == 1


def test_static_tables_are_public_but_written_by_service_role(db: PsycopgDatabase) -> None:
    Repositories.over(db).static_data.upsert_static_data([entry()])
    with psycopg.connect(db.dsn) as conn:
        conn.execute("set role anon")
        assert conn.execute("select count(*) from wow_realms").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into wow_classes (flavor, id, name) values ('retail', 99, 'x')")
    with psycopg.connect(db.dsn) as conn:
        conn.execute("set role authenticated")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select public.upsert_static_data('[]'::jsonb)")
