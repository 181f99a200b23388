"""realm_groups and the history query, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.errors import BadRequest
from shared.services.characters import HistoryQuery, realm_groups


def row(i: int, realm: str, connected: int | None, flavor: str = "retail") -> dict[str, object]:
    slug = realm.lower().replace(" ", "-")
    return {"id": i, "realm": realm, "realmSlug": slug, "region": "us", "flavor": flavor,
            "connectedRealmId": connected}  # fmt: skip


def test_groups_by_connected_realm_then_by_realm_when_unknown() -> None:
    groups = realm_groups(
        [
            row(1, "Illidan", 57),
            row(2, "Area 52", 57),
            row(3, "Moon Guard", None),
            row(4, "Moon Guard", None),
            row(5, "Area 52", 57, flavor="classic"),
        ]
    )
    assert [(g["connectedRealmId"], g["realms"], g["characterIds"]) for g in groups] == [
        (57, ["Area 52", "Illidan"], [1, 2]),
        (None, ["Moon Guard"], [3, 4]),
        (57, ["Area 52"], [5]),
    ]


def test_history_query() -> None:
    assert HistoryQuery.parse({}) == HistoryQuery(since=None, limit=100)
    naive = HistoryQuery.parse({"since": "2026-12-01T10:00:00", "limit": "5"})
    assert naive.since == datetime(2026, 12, 1, 10, tzinfo=UTC) and naive.limit == 5
    assert HistoryQuery.parse({"since": "2026-12-01T10:00:00Z"}).since == naive.since
    for bad in ({"limit": "0"}, {"limit": "501"}, {"since": "soon"}):
        with pytest.raises(BadRequest):
            HistoryQuery.parse(bad)
