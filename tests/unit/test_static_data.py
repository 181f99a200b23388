"""`StaticDataService` over the in-memory repository, Battle.net at the HTTP boundary: every
region and version read first, then written in one call (a failure writes nothing); rows
counted as inserted, updated or unchanged; the connected-realm index where there is no search."""

from __future__ import annotations

import re

import pytest
from pytest_httpx import HTTPXMock

from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import GameVersion, Region
from shared.errors import BlizzardServerError
from shared.services.static_data import StaticDataService
from tests.conftest import TEST_API
from tests.fakes import Fakes
from tests.fakes.battlenet import add_token, api, sample, sample_json

RACE = re.compile(re.escape(f"{TEST_API}/data/wow/playable-race/") + r"\d+\?.*")
CONNECTED = re.compile(re.escape(f"{TEST_API}/data/wow/connected-realm/") + r"\d+\?.*")


def answer_game_data(httpx_mock: HTTPXMock, *, search: bool = False) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(
        url=api("/data/wow/playable-class/index"), content=sample("playable_class_index.json"),
        is_reusable=True,
    )  # fmt: skip
    httpx_mock.add_response(
        url=api("/data/wow/playable-race/index"), content=sample("playable_race_index.json"),
        is_reusable=True,
    )  # fmt: skip
    httpx_mock.add_response(url=RACE, content=sample("playable_race_detail.json"), is_reusable=True)
    detail = sample_json("connected_realm_detail.json")
    if search:
        httpx_mock.add_response(
            url=api("/data/wow/search/connected-realm"),
            json={"page": 1, "pageSize": 1000, "maxPageSize": 1000, "pageCount": 1,
                  "results": [{"data": detail}]},
            is_reusable=True,
        )  # fmt: skip
        return
    httpx_mock.add_response(
        url=api("/data/wow/search/connected-realm"), status_code=404, json={"code": 404},
        is_reusable=True,
    )  # fmt: skip
    httpx_mock.add_response(
        url=api("/data/wow/connected-realm/index"), content=sample("connected_realm_index.json"),
        is_reusable=True,
    )  # fmt: skip
    httpx_mock.add_response(url=CONNECTED, json=detail, is_reusable=True)


def test_a_sync_writes_every_region_and_counts_changes(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    answer_game_data(httpx_mock)
    service = StaticDataService(client, fakes.static_data)
    result = service.sync([Region.US], [GameVersion.RETAIL])
    counts = result.counts["us"]["retail"]
    classes = len(sample_json("playable_class_index.json")["classes"])
    assert counts["classes"] == classes and counts["changes"]["classes"]["inserted"] == classes
    assert counts["realms"] == len(fakes.db.realms) > 0
    assert {r["connected_realm_id"] for r in fakes.db.realms.values()} == {11}
    assert result.requests == len(httpx_mock.get_requests())  # the token request counts too
    again = service.sync([Region.US], [GameVersion.RETAIL]).counts["us"]["retail"]["changes"]
    assert again == {t: {"inserted": 0, "updated": 0} for t in ("classes", "races", "realms")}


def test_the_search_is_used_where_the_server_has_it(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    answer_game_data(httpx_mock, search=True)
    StaticDataService(client, fakes.static_data).sync([Region.EU], [GameVersion.RETAIL])
    assert not httpx_mock.get_requests(url=api("/data/wow/connected-realm/index"))
    assert {key[0] for key in fakes.db.realms} == {"eu"}


def test_a_failure_writes_nothing(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(
        url=api("/data/wow/playable-class/index"), content=sample("playable_class_index.json")
    )
    httpx_mock.add_response(
        url=api("/data/wow/playable-race/index"), status_code=503, is_reusable=True
    )
    with pytest.raises(BlizzardServerError):
        StaticDataService(client.with_attempts(1), fakes.static_data).sync(
            [Region.US], [GameVersion.RETAIL]
        )
    assert fakes.db.classes == {} and fakes.db.races == {}
