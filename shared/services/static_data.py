"""Static game data: classes, races (with faction) and realms for each requested region and
game version, fetched in full first and then written in one transaction, so a Battle.net
failure leaves every existing row as it was.

Requests per region and version: one class index, one race index and one detail per race
(the index has no faction), and the connected-realm search a page at a time (full realm
details, 1000 per page). Where a server has no search endpoint, the connected-realm index and
one detail per connected realm are read instead.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from shared.blizzard import endpoints as ep
from shared.blizzard import models as m
from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import GameVersion, Region
from shared.blizzard.scope import request_scope, submit
from shared.db.static_data import StaticDataStore
from shared.errors import BlizzardHTTPError

SEARCH_PAGE_SIZE = 1000
MAX_SEARCH_PAGES = 50  # a bound on the pages of one search
FETCH_CONCURRENCY = 8
T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class StaticSyncResult:
    counts: dict[str, dict[str, dict[str, Any]]]
    requests: int
    duration_ms: int

    def as_json(self) -> dict[str, Any]:
        return {"counts": self.counts, "requests": self.requests, "durationMs": self.duration_ms}


class StaticDataService:
    def __init__(self, client: BlizzardClient, store: StaticDataStore) -> None:
        self.client = client
        self.store = store

    def sync(self, regions: list[Region], game_versions: list[GameVersion]) -> StaticSyncResult:
        started = time.monotonic()
        with request_scope() as counter:
            # The first failure propagates: nothing is written unless everything was read.
            entries = [self.fetch(r, v) for r in regions for v in game_versions]
        written = self.store.upsert_static_data(entries)
        counts: dict[str, dict[str, dict[str, Any]]] = {}
        for row in written:
            counts.setdefault(row.region, {})[row.game_version] = {
                **{table: n.total for table, n in row.tables.items()},
                "changes": {
                    table: {"inserted": n.inserted, "updated": n.updated}
                    for table, n in row.tables.items()
                },
            }
        duration = int((time.monotonic() - started) * 1000)
        return StaticSyncResult(counts, counter.count, duration)

    def fetch(self, region: Region, version: GameVersion) -> dict[str, Any]:
        """Everything of one region and game version, ready for upsert_static_data."""
        get = self.client.fetch
        classes = get(ep.CLASS_INDEX, region=region, game_version=version).value().classes
        race_index = get(ep.RACE_INDEX, region=region, game_version=version).value().races
        races = self._details(ep.RACE, region, version, [r.id for r in race_index])
        realms = self._realms(region, version)
        return {
            "region": region.value,
            "flavor": version.flavor,
            "gameVersion": version.value,
            "classes": [{"id": c.id, "name": c.name} for c in classes],
            "races": [
                {
                    "id": r.id,
                    "name": r.name,
                    "faction": r.faction.type,
                    "is_allied_race": r.is_allied_race,
                    "is_selectable": r.is_selectable,
                }
                for r in races
            ],
            "realms": realms,
        }

    def _realms(self, region: Region, version: GameVersion) -> list[dict[str, Any]]:
        try:
            connected = self._search_connected_realms(region, version)
        except BlizzardHTTPError as exc:
            if exc.http_status in (401, 429) or (exc.http_status or 500) >= 500:
                raise
            # A server without the search endpoint (or that refuses its parameters).
            connected = self._connected_realms_one_by_one(region, version)
        return [
            {
                "id": realm.id,
                "slug": realm.slug,
                "name": realm.name,
                "category": realm.category,
                "timezone": realm.timezone,
                "type": realm.type.type if realm.type else None,
                "locale": realm.locale,
                "connected_realm_id": group.id,
                "is_tournament": realm.is_tournament,
            }
            for group in connected
            for realm in group.realms
        ]

    def _search_connected_realms(
        self, region: Region, version: GameVersion
    ) -> list[m.ConnectedRealm]:
        found: list[m.ConnectedRealm] = []
        page, page_count = 1, 1
        while page <= min(page_count, MAX_SEARCH_PAGES):
            query: dict[str, str | int] = {
                "_page": page,
                "_pageSize": SEARCH_PAGE_SIZE,
                "orderby": "id",
            }
            result = self.client.fetch(
                ep.CONNECTED_REALM_SEARCH, region=region, game_version=version, query=query
            ).value()
            found.extend(r.data for r in result.results)
            page_count = result.page_count
            page += 1
        return found

    def _connected_realms_one_by_one(
        self, region: Region, version: GameVersion
    ) -> list[m.ConnectedRealm]:
        index = self.client.fetch(ep.CONNECTED_REALM_INDEX, region=region, game_version=version)
        ids = [
            int(link.href.split("?")[0].rstrip("/").rsplit("/", 1)[1])
            for link in index.value().connected_realms
        ]
        return self._details(ep.CONNECTED_REALM, region, version, ids)

    def _details(
        self, endpoint: ep.Endpoint[T], region: Region, version: GameVersion, ids: list[int]
    ) -> list[T]:
        """One detail request per id, a few at a time, in the order of `ids`."""

        def one(item_id: int) -> T:
            return self.client.fetch(
                endpoint, region=region, game_version=version, path={"id": item_id}
            ).value()

        with ThreadPoolExecutor(FETCH_CONCURRENCY) as pool:
            futures = [submit(pool, one, i) for i in ids]
            return [f.result() for f in futures]
