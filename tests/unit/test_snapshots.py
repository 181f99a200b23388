"""Snapshot capture: which kinds are fetched, with which If-Modified-Since, and what a
failure does (pytest-httpx at the Battle.net boundary, the in-memory repository)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpx import HTTPXMock

from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import GameVersion, Region
from shared.errors import BadRequest
from shared.services.snapshots import SnapshotCapture, SnapshotReader, SnapshotTarget
from shared.settings import Settings
from tests.conftest import TEST_API, add_token, sample
from tests.fakes import FakeClock, FakeRepository

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
def capture(settings: Settings) -> tuple[SnapshotCapture, FakeRepository]:
    clock = FakeClock()
    client = BlizzardClient(settings, sleep=clock.sleep, clock=clock)
    repo = FakeRepository()
    return SnapshotCapture(client, repo, now=lambda: NOW), repo


def answer_both(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=EQUIPMENT, content=sample("character_equipment_summary.json"), headers=LAST_MODIFIED
    )
    httpx_mock.add_response(
        url=SPECS, content=sample("character_specializations_summary.json"), headers=LAST_MODIFIED
    )


def test_first_capture_fetches_both_kinds_and_stores_them(
    capture: tuple[SnapshotCapture, FakeRepository], httpx_mock: HTTPXMock
) -> None:
    snapshots, repo = capture
    add_token(httpx_mock)
    answer_both(httpx_mock)
    assert snapshots.capture(target()) == 2
    assert len(repo.snapshots[(7, "equipment")]) == 1
    assert repo.snapshots[(7, "talents")][0]["spec"] == "Arcane"


def test_an_unmoved_profile_fetches_nothing_a_moved_one_sends_its_own_date(
    capture: tuple[SnapshotCapture, FakeRepository], httpx_mock: HTTPXMock
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
    assert len(repo.snapshots[(7, "equipment")]) == 1  # a 304 stores nothing
    assert repo.snapshot_state[7]["equipment"]["profileModified"] == P2.isoformat()


def test_inactive_characters_cost_no_request(
    capture: tuple[SnapshotCapture, FakeRepository],
) -> None:
    snapshots, repo = capture
    assert snapshots.capture(target(login_days_ago=31)) == 0
    no_login = SnapshotTarget(7, Region.US, GameVersion.RETAIL, "area-52", "Thiaba", P1, None)
    assert snapshots.capture(no_login) == 0
    assert repo.snapshot_state == {}


def test_a_failing_kind_is_skipped_and_the_other_kept(
    capture: tuple[SnapshotCapture, FakeRepository], httpx_mock: HTTPXMock
) -> None:
    snapshots, repo = capture
    add_token(httpx_mock)
    httpx_mock.add_response(url=EQUIPMENT, status_code=404, json={"code": 404})
    httpx_mock.add_response(
        url=SPECS, content=sample("character_specializations_summary.json"), headers=LAST_MODIFIED
    )
    assert snapshots.capture(target()) == 1
    assert (7, "equipment") not in repo.snapshots
    assert "equipment" not in repo.snapshot_state[7]  # tried again next time


def test_the_reader_refuses_an_unknown_kind() -> None:
    with pytest.raises(BadRequest, match="equipment, talents"):
        SnapshotReader(FakeRepository()).list("u", 1, "mounts")
