"""The event stream's ids, Last-Event-ID resume and clean early ends, its back-off, its end
whatever Last-Event-ID it came with, and its caps, with a fake repository and a fake clock
(the SQL behind it is tested in tests/integration and tests/e2e)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.db.limits import LimitAnswer
from shared.errors import BadRequest, DataError, TooManyRequests
from shared.services.progress import (
    STATE_CHECK_SECONDS,
    ProgressStream,
    StreamLimits,
    parse_last_event_id,
)
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
    """`sync_events_since` over a list that a test extends between polls; `down` polls fail;
    `current` is what `get_sync_state` answers; open streams per user counted in `open`."""

    def __init__(self, events: list[tuple[int, str, dict[str, Any]]]) -> None:
        self.events = events
        self.down = 0
        self.calls: list[int] = []
        self.current: dict[str, Any] | None = {"event": "sync-progress", "data": {}}
        self.state_calls = 0
        self.open: dict[str, str] = {}  # stream id -> user
        self.touched: list[str] = []

    def get_sync_state(self, session_id: str, user_id: Any) -> dict[str, Any] | None:
        self.state_calls += 1
        return self.current

    def stream_open(self, user_id: str, limit: int, ttl_s: int, max_life_s: int) -> LimitAnswer:
        if sum(1 for u in self.open.values() if u == user_id) >= limit:
            return LimitAnswer(False, 42.0)
        stream_id = f"s{len(self.open) + len(self.touched) + 1}"
        self.open[stream_id] = user_id
        return LimitAnswer(True, 0.0, stream_id)

    def stream_touch(self, stream_id: str, ttl_s: int) -> bool:
        self.touched.append(stream_id)
        return stream_id in self.open

    def stream_close(self, stream_id: str) -> None:
        self.open.pop(stream_id, None)

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
    return ProgressStream(repo, repo, sleep=clock.sleep, clock=clock, **kw)  # type: ignore[arg-type]


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


def test_from_the_start_an_ended_session_delivers_every_event() -> None:
    """The page that started a session follows it with Last-Event-ID 0: when the session ended
    before the stream opened, each character's event still arrives, then the end."""
    events = [(3, "sync-progress", progress(1)), (4, "sync-progress", progress(2))]
    repo = FakeEvents([*events, (5, "sync-complete", COMPLETE)])
    out = parse(list(stream(repo).events(SID, state("sync-complete", COMPLETE, 5), "0")))
    assert [(e["id"], e["event"]) for e in out] == [
        ("3", "sync-progress"),
        ("4", "sync-progress"),
        ("5", "sync-complete"),
    ]


def test_from_the_start_before_any_event_the_state_comes_at_once() -> None:
    repo = FakeEvents([])  # nothing yet when the stream opens; then two events
    later = [(1, "sync-progress", progress(1)), (2, "sync-complete", COMPLETE)]
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        repo.events = later

    follow = ProgressStream(repo, repo, sleep=sleep, clock=clock)  # type: ignore[arg-type]
    out = parse(list(follow.events(SID, state("sync-progress", progress(0), 0), "0")))
    assert [(e["id"], e["event"]) for e in out] == [
        ("0", "sync-progress"),
        ("1", "sync-progress"),
        ("2", "sync-complete"),
    ]


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


def test_the_poll_backs_off_while_nothing_changes_and_resets_on_an_event() -> None:
    repo = FakeEvents([])
    original = repo.sync_events_since

    def one_event_on_the_sixth_poll(session_id: str, after: int) -> list[dict[str, Any]]:
        if len(repo.calls) == 5:
            repo.events.append((1, "sync-progress", progress(1)))
        return original(session_id, after)

    repo.sync_events_since = one_event_on_the_sixth_poll  # type: ignore[method-assign]
    clock = FakeClock()
    list(stream(repo, clock, max_seconds=8).events(SID, state("sync-progress", progress(0), 0)))
    assert clock.sleeps[:9] == [0.1, 0.2, 0.4, 0.8, 1.6, 0.1, 0.1, 0.2, 0.4]
    assert max(clock.sleeps) == 2.0


@pytest.mark.parametrize("last_event_id", ["999999", "0", "3"])
def test_a_stream_ends_within_seconds_of_the_session_end_whatever_last_event_id(
    last_event_id: str,
) -> None:
    """The session ends without an event after the id the client brought (its end was
    recorded under an older id, or the id came from another session): the stream looks at the
    session itself and ends within STATE_CHECK_SECONDS (plus one poll)."""
    repo = FakeEvents([])
    clock = FakeClock()
    started = clock.now
    original = repo.sync_events_since

    def ends_after_a_second(session_id: str, after: int) -> list[dict[str, Any]]:
        if clock.now - started >= 1 and repo.current and repo.current["event"] != "sync-complete":
            repo.current = state("sync-complete", COMPLETE, 3)
            ended.append(clock.now)
        return original(session_id, after)

    ended: list[float] = []
    repo.sync_events_since = ends_after_a_second  # type: ignore[method-assign]
    opening = state("sync-progress", progress(1), 3)
    out = parse(list(stream(repo, clock).events(SID, opening, last_event_id)))
    assert out[-1]["event"] == "sync-complete" and out[-1]["id"] == "3"
    assert clock.now - ended[0] <= STATE_CHECK_SECONDS + 2.0


def test_an_id_beyond_the_newest_event_is_answered_at_once_with_the_state() -> None:
    repo = FakeEvents([])
    repo.current = state("sync-complete", COMPLETE, 12)
    out = parse(list(stream(repo).events(SID, state("sync-complete", COMPLETE, 12), "5000")))
    assert [(e["id"], e["event"]) for e in out] == [("12", "sync-complete")]
    assert repo.calls == []
    # a running session: the state at once, then its events after the state's id
    repo = FakeEvents([(13, "sync-complete", COMPLETE)])
    out = parse(list(stream(repo).events(SID, state("sync-progress", progress(1), 12), "5000")))
    assert [(e["id"], e["event"]) for e in out] == [
        ("12", "sync-progress"),
        ("13", "sync-complete"),
    ]
    assert repo.calls == [12]


def test_streams_past_the_instance_cap_are_refused_until_one_closes() -> None:
    repo = FakeEvents([])
    progress_stream = ProgressStream(repo, repo, StreamLimits(per_user=10, per_instance=2))
    first = progress_stream.events(SID, state("sync-progress", progress(0), 0))
    second = progress_stream.events(SID, state("sync-progress", progress(0), 0), user_id="u2")
    with pytest.raises(TooManyRequests) as refused:
        progress_stream.events(SID, state("sync-progress", progress(0), 0))
    assert refused.value.status == 429 and refused.value.public["retryAfter"] >= 1
    first.close()  # never read: closing gives its place back all the same
    first.close()  # once
    third = progress_stream.events(SID, state("sync-progress", progress(0), 0))
    with pytest.raises(TooManyRequests):
        progress_stream.events(SID, state("sync-progress", progress(0), 0))
    second.close()
    third.close()
    assert repo.open == {}


def test_streams_past_the_user_cap_are_refused_and_counted_per_user() -> None:
    repo = FakeEvents([])
    progress_stream = ProgressStream(repo, repo, StreamLimits(per_user=2, per_instance=10))
    opening = state("sync-progress", progress(0), 0)
    mine = [progress_stream.events(SID, opening, user_id="me") for _ in range(2)]
    with pytest.raises(TooManyRequests) as refused:
        progress_stream.events(SID, opening, user_id="me")
    assert refused.value.public["retryAfter"] == 42
    other = progress_stream.events(SID, opening, user_id="other")  # another user is served
    mine[0].close()
    progress_stream.events(SID, opening, user_id="me").close()
    # a refused stream gave its instance place back: 10 more fit beside the three open ones
    more = [progress_stream.events(SID, opening) for _ in range(7)]
    for s in [*more, mine[1], other]:
        s.close()
    assert repo.open == {}


def test_the_heartbeat_keeps_the_stream_counted() -> None:
    repo = FakeEvents([])
    progress_stream = stream(repo, max_seconds=40)
    chunks = list(progress_stream.events(SID, state("x", {}, 0), user_id="me"))
    assert chunks.count(": keep-alive\n\n") == 2
    assert len(repo.touched) == 2 and len(set(repo.touched)) == 1
