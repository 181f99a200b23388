"""The event stream's ids, Last-Event-ID resume and clean early ends, with a fake repository
and a fake clock (the SQL behind it is tested in tests/integration and tests/e2e)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import BadRequest, DataError
from shared.services.progress import ProgressStream, parse_last_event_id
from tests.fakes import FakeClock

SID = "6f1c2d4e-0000-4000-8000-000000000001"


def progress(processed: int, total: int = 3) -> dict[str, Any]:
    return {
        "sessionId": SID,
        "status": "processing",
        "totalCharacters": total,
        "processedCharacters": processed,
        "failedCharacters": 0,
        "progressPercentage": 100 * processed // total,
        "currentCharacter": None,
    }


COMPLETE = {"sessionId": SID, "status": "completed", "progressPercentage": 100}


class FakeEvents:
    """`sync_events_since` over a list that a test extends between polls; `down` polls fail."""

    def __init__(self, events: list[tuple[int, str, dict[str, Any]]]) -> None:
        self.events = events
        self.down = 0
        self.calls: list[int] = []

    def sync_events_since(self, session_id: str, after: int) -> list[dict[str, Any]]:
        self.calls.append(after)
        if self.down:
            self.down -= 1
            raise DataError("database unavailable: connection refused")
        return [{"id": i, "event": e, "data": d} for i, e, d in self.events if i > after]


def parse(chunks: list[str]) -> list[dict[str, Any]]:
    """The SSE text as a list of {id, event, data, retry} (comments dropped)."""
    out = []
    for block in "".join(chunks).split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            if line.startswith(":") or not line:
                continue
            name, _, value = line.partition(": ")
            fields[name] = json.loads(value) if name == "data" else value
        if fields:
            out.append(fields)
    return out


def stream(repo: FakeEvents, clock: FakeClock | None = None, **kw: Any) -> ProgressStream:
    clock = clock or FakeClock()
    return ProgressStream(repo, sleep=clock.sleep, clock=clock, **kw)  # type: ignore[arg-type]


def state(event: str, data: dict[str, Any], last: int) -> dict[str, Any]:
    return {"event": event, "data": data, "lastEventId": last}


def test_every_event_has_an_id_the_opening_state_included() -> None:
    repo = FakeEvents([(7, "sync-progress", progress(1)), (8, "sync-complete", COMPLETE)])
    out = parse(list(stream(repo).events(SID, state("sync-progress", progress(0), 6))))
    assert [(e["id"], e["event"]) for e in out] == [
        ("6", "sync-progress"),
        ("7", "sync-progress"),
        ("8", "sync-complete"),
    ]
    assert repo.calls == [6]


def test_a_session_without_events_opens_with_id_zero() -> None:
    out = parse(list(stream(FakeEvents([]), max_seconds=1).events(SID, state("x", {}, 0))))
    assert out[0]["id"] == "0"
    assert out[-1]["event"] == "stream-timeout" and out[-1]["id"] == "0"
    assert out[-1]["retry"] == "2000"


def test_resume_after_last_event_id_without_the_opening_state() -> None:
    events = [(5, "sync-progress", progress(1)), (9, "sync-progress", progress(2))]
    repo = FakeEvents([*events, (12, "sync-complete", COMPLETE)])
    first = state("sync-complete", COMPLETE, 12)
    out = parse(list(stream(repo).events(SID, first, "5")))
    assert [(e["id"], e["event"]) for e in out] == [("9", "sync-progress"), ("12", "sync-complete")]
    assert out[0]["data"] == progress(2)


def test_resume_of_an_ended_session_with_nothing_newer_sends_its_end_once() -> None:
    repo = FakeEvents([(5, "sync-complete", COMPLETE)])
    out = parse(list(stream(repo).events(SID, state("sync-complete", COMPLETE, 5), "5")))
    assert [(e["id"], e["event"]) for e in out] == [("5", "sync-complete")]
    assert repo.calls == []


def test_resume_waits_for_new_events() -> None:
    repo = FakeEvents([(3, "sync-progress", progress(1))])
    original = repo.sync_events_since

    def arrives_on_third_poll(session_id: str, after: int) -> list[dict[str, Any]]:
        if len(repo.calls) == 2:
            repo.events.append((4, "sync-complete", COMPLETE))
        return original(session_id, after)

    repo.sync_events_since = arrives_on_third_poll  # type: ignore[method-assign]
    clock = FakeClock()
    out = parse(list(stream(repo, clock).events(SID, state("sync-progress", progress(1), 3), "3")))
    assert [(e["id"], e["event"]) for e in out] == [("4", "sync-complete")]
    assert repo.calls == [3, 3, 3] and len(clock.sleeps) == 2


def test_database_away_while_polling_ends_cleanly_with_a_retry_hint() -> None:
    repo = FakeEvents([(2, "sync-progress", progress(1))])
    repo.down = 1
    out = parse(list(stream(repo).events(SID, state("sync-progress", progress(1), 2))))
    assert [e["event"] for e in out] == ["sync-progress", "stream-interrupted"]
    assert out[-1]["id"] == "2" and out[-1]["retry"] == "2000"
    assert out[-1]["data"] == {"sessionId": SID, "lastEventId": 2}
    # the client comes back with Last-Event-ID: 2 and misses nothing
    repo.events.append((3, "sync-complete", COMPLETE))
    ended = state("sync-complete", COMPLETE, 3)
    again = parse(list(stream(repo).events(SID, ended, out[-1]["id"])))
    assert [(e["id"], e["event"]) for e in again] == [("3", "sync-complete")]


def test_heartbeat_while_nothing_happens() -> None:
    chunks = list(stream(FakeEvents([]), max_seconds=40).events(SID, state("x", {}, 0)))
    assert chunks.count(": keep-alive\n\n") == 2


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", "١٢", "9 9"])
def test_a_bad_last_event_id_is_a_bad_request(raw: str) -> None:
    with pytest.raises(BadRequest):
        stream(FakeEvents([])).events(SID, state("x", {}, 0), raw)


@pytest.mark.parametrize(("raw", "value"), [(None, None), ("", None), (" ", None), ("42", 42)])
def test_last_event_id_values(raw: str | None, value: int | None) -> None:
    assert parse_last_event_id(raw) == value
