"""`StaticDataStore` in memory: classes and races per flavor, realms per region and flavor,
each row counted as inserted, updated (a value changed) or left alone, as
`upsert_static_data` counts them."""

from __future__ import annotations

from typing import Any

from shared.db.protocol import JSON
from shared.db.static_data import StaticDataWritten, TableCount
from tests.fakes.db import FakeDb


class FakeStaticDataStore:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def upsert_static_data(self, entries: list[JSON]) -> list[StaticDataWritten]:
        written = []
        for e in entries:
            region, flavor = e["region"], e["flavor"]
            classes = self._upsert(
                self.db.classes, {(flavor, c["id"]): c["name"] for c in e["classes"]}
            )
            races = self._upsert(self.db.races, {(flavor, r["id"]): dict(r) for r in e["races"]})
            realms = self._upsert(
                self.db.realms, {(region, flavor, r["id"]): dict(r) for r in e["realms"]}
            )
            written.append(
                StaticDataWritten(
                    region,
                    e["gameVersion"],
                    {"classes": classes, "races": races, "realms": realms},
                )
            )
        return written

    @staticmethod
    def _upsert(table: dict[Any, Any], rows: dict[Any, Any]) -> TableCount:
        inserted = updated = 0
        for key, value in rows.items():
            if key not in table:
                inserted += 1
            elif table[key] != value:
                updated += 1
            table[key] = value
        return TableCount(len(rows), inserted, updated)
