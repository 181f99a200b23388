"""The stack runner's watch over static data (`make run`).

Static data (classes, races, realms) is synced as queued work, never as a blocking call, so
the stack comes up whatever Battle.net answers: the watch queues the sync through the database
(`enqueue_static_sync()`, the body of the monthly cron job) and the consumer loop runs it. Every
`interval` seconds (one cheap query) it looks again. While static data is missing:

- the sync is still queued (waiting, or being retried by the worker): say so, at most once a
  minute;
- nothing is queued any more (the worker gave up and dead-lettered it): say why, with the
  dead letter's reason (what Battle.net answered), and queue it again after `interval` seconds.

Once static data is present it says so once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row

from shared.db.queries import query

Log = Callable[[str], None]
CONNECT_TIMEOUT = 5
STATEMENT_TIMEOUT_MS = 5_000
DEFAULT_INTERVAL = 15.0
QUIET = 60.0  # seconds between two "still queued" lines


@dataclass(frozen=True)
class StaticDataState:
    classes: int
    races: int
    realms: int
    queued: int  # static-data messages in the queue (visible or not)
    reads: int  # the most reads of a queued one: attempts so far
    last_dead_id: int | None  # the newest dead-lettered static-data message
    last_dead_error: str | None
    last_error: str | None = None  # why the queued one failed last (or was paused)


class StaticDataSource(Protocol):
    def state(self) -> StaticDataState: ...

    def enqueue(self) -> int:
        """Queue the static sync unless one is queued; 1 when queued now."""


class DatabaseStaticData:
    """The source over the stack's Postgres: one short connection per call (every ~15 s)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def _one(self, name: str) -> dict[str, Any]:
        with psycopg.connect(
            self.dsn,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=CONNECT_TIMEOUT,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        ) as conn:
            row = conn.execute(query(name)).fetchone()
        assert row is not None
        return row

    def state(self) -> StaticDataState:
        return StaticDataState(**self._one("stack_static_data_state"))

    def enqueue(self) -> int:
        return int(self._one("enqueue_static_sync")["value"])


class StaticDataWatch:
    def __init__(
        self,
        source: StaticDataSource,
        interval: float = DEFAULT_INTERVAL,
        *,
        clock: Callable[[], float] = time.monotonic,
        log: Log = print,
    ) -> None:
        self.source = source
        self.interval = interval
        self.clock = clock
        self.log = log
        self.next_check = clock()
        self.synced = False
        self.queued_by_us = False
        self.dead_seen: int | None = None  # newest dead letter when we last queued
        self.retry_at: float | None = None
        self.said_at: dict[str, float] = {}  # topic -> when a line on it was last said

    def tick(self) -> None:
        """Check when the interval has passed since the last check; cheap otherwise."""
        now = self.clock()
        if now < self.next_check:
            return
        self.next_check = now + self.interval
        self.check(now)

    def _say(self, line: str, topic: str | None = None) -> None:
        """Say a line; one on a `topic` said less than QUIET seconds ago is left out."""
        if topic is not None:
            now, last = self.clock(), self.said_at.get(topic)
            if last is not None and now - last < QUIET:
                return
            self.said_at[topic] = now
        self.log(line)

    def check(self, now: float) -> None:
        try:
            state = self.source.state()
        except Exception as exc:  # the database may be restarting: look again next time
            self._say(
                f"static data check failed ({exc}); checking again in {self.interval:g} s",
                topic="check",
            )
            return
        if state.classes:
            self.retry_at = None
            if not self.synced:
                self.synced = True
                self._say(
                    f"static data is in the database: {state.classes} classes, "
                    f"{state.races} races, {state.realms} realms"
                )
            return
        self.synced = False
        if state.queued:
            self.retry_at = None
            if state.reads:  # being retried (or held while Battle.net is failing)
                why = f" ({state.last_error})" if state.last_error else ""
                self._say(
                    f"static data not synced yet: its sync failed {state.reads} time(s) so "
                    f"far{why} and is queued again; the consumer retries it",
                    topic="retrying",
                )
            else:
                self._say("static data not synced yet: its sync is queued", topic="queued")
            return
        if not self.queued_by_us:
            self._enqueue(state, "static data not synced yet: queued its sync for the consumer")
            return
        if self.retry_at is None:
            if state.last_dead_id is not None and state.last_dead_id != self.dead_seen:
                why = state.last_dead_error or "the sync failed"
            else:
                why = "the sync ended without writing static data"
            self.retry_at = now + self.interval
            self._say(f"static data not synced yet: {why}; retrying in {self.interval:g} s")
            return
        if now >= self.retry_at:
            self.retry_at = None
            self._enqueue(state, "static data sync queued again")

    def _enqueue(self, state: StaticDataState, line: str) -> None:
        try:
            self.source.enqueue()
        except Exception as exc:
            self._say(f"could not queue the static data sync ({exc}); trying again", topic="check")
            return
        self.queued_by_us = True
        self.dead_seen = state.last_dead_id
        self.said_at["queued"] = self.clock()  # this line says it is queued
        self._say(line)
