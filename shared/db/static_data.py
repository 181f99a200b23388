"""Static game data (classes, races, realms) of several regions and game versions, written in
one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.db.base import SqlStore
from shared.db.protocol import JSON

TABLES = ("classes", "races", "realms")


@dataclass(frozen=True)
class TableCount:
    total: int
    inserted: int
    updated: int


@dataclass(frozen=True)
class StaticDataWritten:
    """What one region and game version's upsert did, per table."""

    region: str
    game_version: str
    tables: dict[str, TableCount]

    @classmethod
    def from_json(cls, row: JSON) -> StaticDataWritten:
        return cls(
            row["region"],
            row["gameVersion"],
            {
                t: TableCount(int(row[t]["total"]), int(row[t]["inserted"]), int(row[t]["updated"]))
                for t in TABLES
            },
        )


class StaticDataStore(Protocol):
    def upsert_static_data(self, entries: list[JSON]) -> list[StaticDataWritten]: ...


class SqlStaticDataStore(SqlStore):
    def upsert_static_data(self, entries: list[JSON]) -> list[StaticDataWritten]:
        """Each entry `{region, flavor, gameVersion, classes, races, realms}` upserted (rows
        that did not change are left alone)."""
        rows: list[JSON] = self._call("upsert_static_data", p_data=entries)
        return [StaticDataWritten.from_json(r) for r in rows]
