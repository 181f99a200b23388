"""The stack's static-data watch: queued work, failures said with their reason and retried."""

from __future__ import annotations

from dataclasses import replace

from devtools.static_watch import StaticDataState, StaticDataWatch
from tests.fakes import FakeClock

EMPTY = StaticDataState(0, 0, 0, 0, 0, None, None)
REASON = "Battle.net answered 503 Service Unavailable for http://emu/oauth/token"


class FakeSource:
    """A static_data queue and its dead letters, moved along by the test."""

    def __init__(self, state: StaticDataState = EMPTY) -> None:
        self.current = state
        self.enqueued = 0
        self.fail: Exception | None = None

    def state(self) -> StaticDataState:
        if self.fail is not None:
            raise self.fail
        return self.current

    def enqueue(self) -> int:
        if self.current.queued:
            return 0
        self.enqueued += 1
        self.current = replace(self.current, queued=1, reads=0)
        return 1

    def dead_letter(self, msg_id: int, reason: str = REASON) -> None:
        self.current = replace(
            self.current, queued=0, reads=0, last_dead_id=msg_id, last_dead_error=reason
        )


def make(source: FakeSource, interval: float = 10) -> tuple[StaticDataWatch, FakeClock, list[str]]:
    clock, lines = FakeClock(), []
    return StaticDataWatch(source, interval, clock=clock, log=lines.append), clock, lines


def test_missing_static_data_is_queued_at_once() -> None:
    source = FakeSource()
    watch, _, lines = make(source)
    watch.tick()
    assert source.enqueued == 1
    assert lines == ["static data not synced yet: queued its sync for the consumer"]


def test_a_failed_sync_is_said_with_its_reason_and_queued_again_after_the_interval() -> None:
    source = FakeSource()
    watch, clock, lines = make(source)
    watch.tick()
    clock.sleep(10)
    watch.tick()  # still queued, not tried yet: already said
    assert len(lines) == 1
    source.current = replace(source.current, reads=1)
    clock.sleep(10)
    watch.tick()  # the worker retries it
    assert lines[-1] == (
        "static data not synced yet: its sync failed 1 time(s) so far and is queued again; "
        "the consumer retries it"
    )
    source.dead_letter(7)
    clock.sleep(5)
    watch.tick()  # not due
    assert source.enqueued == 1 and len(lines) == 2
    clock.sleep(5)
    watch.tick()
    assert lines[-1] == f"static data not synced yet: {REASON}; retrying in 10 s"
    assert source.enqueued == 1
    clock.sleep(10)
    watch.tick()
    assert source.enqueued == 2
    assert lines[-1] == "static data sync queued again"
    source.dead_letter(8)  # the second round fails too: said again, queued again
    clock.sleep(10)
    watch.tick()
    clock.sleep(10)
    watch.tick()
    assert source.enqueued == 3
    assert lines[-2].endswith("retrying in 10 s")


def test_work_already_queued_is_not_queued_twice_and_is_said_at_most_once_a_minute() -> None:
    source = FakeSource(replace(EMPTY, queued=1, reads=3))
    watch, clock, lines = make(source)
    for _ in range(12):  # two minutes
        watch.tick()
        clock.sleep(10)
    assert source.enqueued == 0
    said = (
        "static data not synced yet: its sync failed 3 time(s) so far and is queued again; "
        "the consumer retries it"
    )
    assert lines == [said, said]


def test_present_static_data_is_said_once_and_nothing_is_queued() -> None:
    source = FakeSource(replace(EMPTY, classes=13, races=27, realms=44))
    watch, clock, lines = make(source)
    for _ in range(5):
        watch.tick()
        clock.sleep(10)
    assert source.enqueued == 0
    assert lines == ["static data is in the database: 13 classes, 27 races, 44 realms"]


def test_recovery_after_failures_is_said_once() -> None:
    source = FakeSource()
    watch, clock, lines = make(source)
    watch.tick()
    source.dead_letter(1)
    for _ in range(2):
        clock.sleep(10)
        watch.tick()
    source.current = replace(EMPTY, classes=13, races=27, realms=44, last_dead_id=1)
    for _ in range(3):
        clock.sleep(10)
        watch.tick()
    assert lines[-1] == "static data is in the database: 13 classes, 27 races, 44 realms"
    assert sum("is in the database" in line for line in lines) == 1


def test_an_old_dead_letter_is_not_taken_for_this_runs_failure() -> None:
    source = FakeSource(replace(EMPTY, last_dead_id=3, last_dead_error="an old failure"))
    watch, clock, lines = make(source)
    watch.tick()
    source.current = replace(source.current, queued=0)  # gone without a new dead letter
    clock.sleep(10)
    watch.tick()
    assert lines[-1] == (
        "static data not synced yet: the sync ended without writing static data; retrying in 10 s"
    )


def test_a_database_error_is_said_and_the_watch_goes_on() -> None:
    source = FakeSource()
    source.fail = OSError("connection refused")
    watch, clock, lines = make(source)
    watch.tick()
    clock.sleep(10)
    watch.tick()
    assert lines == ["static data check failed (connection refused); checking again in 10 s"]
    source.fail = None
    clock.sleep(10)
    watch.tick()
    assert source.enqueued == 1
