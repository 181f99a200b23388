"""Snapshot capture: which kinds are fetched, with which If-Modified-Since, and what a
failure does (pytest-httpx at the Battle.net boundary, the in-memory repositories)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpx import HTTPXMock

from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import GameVersion, Region
from shared.errors import BadRequest
from shared.services.snapshots import SnapshotCapture, SnapshotReader, SnapshotTarget
from tests.conftest import TEST_API
from tests.fakes import Fakes
from tests.fakes.battlenet import add_token, sample
from tests.fakes.db import FakeCharacter, FakeSnapshot

NOW = datetime(2026, 12, 1, tzinfo=UTC)
P1 = datetime(2026, 11, 30, 12, tzinfo=UTC)
P2 = datetime(2026, 11, 30, 18, tzinfo=UTC)
EQUIPMENT = re.compile(
    re.escape(f"{TEST_API}/profile/wow/character/area-52/thiaba/equipment") + r"\?.*"
)
SPECS = re.compile(
    re.escape(f"{TEST_API}/profile/wow/character/area-52/thiaba/specializations") + r"\?.*"
)
LAST_MODIFIED = {"Last-Modified": "Mon, 30 Nov 2026 12:00:00 GMT"}


def target(profile_modified: datetime | None = P1, login_days_ago: float = 1) -> SnapshotTarget:
    login = NOW - timedelta(days=login_days_ago)
    return SnapshotTarget(
        7, Region.US, GameVersion.RETAIL, "area-52", "Thiaba", profile_modified,
        int(login.timestamp() * 1000),
    )  # fmt: skip


@pytest.fixture
def capture(client: BlizzardClient) -> tuple[SnapshotCapture, Fakes]:
    fakes = Fakes()
    fakes.db.characters[7] = FakeCharacter(7, "u", "us", "retail", 1, "area-52", 70, "Thiaba")
    return SnapshotCapture(client, fakes.snapshots, now=lambda: NOW), fakes


def kept(fakes: Fakes, kind: str) -> list[FakeSnapshot]:
    return [s for s in fakes.db.snapshots if (s.character_id, s.kind) == (7, kind)]


def answer_both(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=EQUIPMENT, content=sample("character_equipment_summary.json"), headers=LAST_MODIFIED
    )
    httpx_mock.add_response(
        url=SPECS, content=sample("character_specializations_summary.json"), headers=LAST_MODIFIED
    )


def test_first_capture_fetches_both_kinds_and_stores_them(
    capture: tuple[SnapshotCapture, Fakes], httpx_mock: HTTPXMock
) -> None:
    snapshots, repo = capture
    add_token(httpx_mock)
    answer_both(httpx_mock)
    assert snapshots.capture(target()) == 2
    assert len(kept(repo, "equipment")) == 1
    assert kept(repo, "talents")[0].content["spec"] == "Arcane"


def test_an_unmoved_profile_fetches_nothing_a_moved_one_sends_its_own_date(
    capture: tuple[SnapshotCapture, Fakes], httpx_mock: HTTPXMock
) -> None:
    snapshots, repo = capture
    add_token(httpx_mock)
    answer_both(httpx_mock)
    snapshots.capture(target(P1))
    assert snapshots.capture(target(P1)) == 0  # no request registered: none may be made
    httpx_mock.add_response(url=EQUIPMENT, status_code=304, headers=LAST_MODIFIED)
    httpx_mock.add_response(url=SPECS, status_code=304, headers=LAST_MODIFIED)
    assert snapshots.capture(target(P2)) == 2
    sent = [r for r in httpx_mock.get_requests() if "/equipment" in str(r.url)]
    assert sent[-1].headers["If-Modified-Since"] == "Mon, 30 Nov 2026 12:00:00 GMT"
    assert len(kept(repo, "equipment")) == 1  # a 304 stores nothing
    assert repo.db.snapshot_sources[7]["equipment"].profile_modified == P2


def test_inactive_characters_cost_no_request(
    capture: tuple[SnapshotCapture, Fakes],
) -> None:
    snapshots, repo = capture
    assert snapshots.capture(target(login_days_ago=31)) == 0
    no_login = SnapshotTarget(7, Region.US, GameVersion.RETAIL, "area-52", "Thiaba", P1, None)
    assert snapshots.capture(no_login) == 0
    assert repo.db.snapshot_sources == {}


def test_a_failing_kind_is_skipped_and_the_other_kept(
    capture: tuple[SnapshotCapture, Fakes], httpx_mock: HTTPXMock
) -> None:
    snapshots, repo = capture
    add_token(httpx_mock)
    httpx_mock.add_response(url=EQUIPMENT, status_code=404, json={"code": 404})
    httpx_mock.add_response(
        url=SPECS, content=sample("character_specializations_summary.json"), headers=LAST_MODIFIED
    )
    assert snapshots.capture(target()) == 1
    assert kept(repo, "equipment") == []
    assert "equipment" not in repo.db.snapshot_sources[7]  # tried again next time


def test_the_reader_refuses_an_unknown_kind() -> None:
    with pytest.raises(BadRequest, match="equipment, talents"):
        SnapshotReader(Fakes().snapshots).list("u", 1, "mounts")
