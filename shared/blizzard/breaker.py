"""The circuit breaker, shared by every process through Postgres (DESIGN.md section 4: when
Battle.net fails, back off as a whole rather than per message).

Every API request reports whether Battle.net answered (any status below 500 is an answer) or
failed (5xx, timeout, connection error). BLIZZARD_BREAKER_FAILURES consecutive failures, from
all processes together, open the breaker: then no request is sent (`check()` raises
`BattlenetUnavailable`, so a job pauses without spending an attempt and a user's call answers
503 with Retry-After at once), the workers stop claiming, and one probe about every
BLIZZARD_BREAKER_PROBE_SECONDS, whoever claims it, asks Battle.net again; its success closes the
breaker. Each process reads the shared state at most once per `refresh_seconds`, so a healthy
system pays one small query a second per process, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from shared.db.throttle import ThrottleStore
from shared.errors import BattlenetUnavailable, GuildSyncError

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0


class Breaker(Protocol):
    """What the client and the worker need of a circuit breaker."""

    def is_open(self) -> bool: ...

    def check(self) -> None:
        """Raise `BattlenetUnavailable` while Battle.net is out."""

    def record(self, ok: bool, error: str | None = None) -> None:
        """Whether Battle.net answered an API request (any status below 500) or failed."""

    def claim_probe(self) -> bool:
        """True for one process about every probe interval while the breaker is open."""


class CircuitBreaker:
    def __init__(
        self,
        repo: ThrottleStore,
        bucket: str,
        *,
        threshold: int,
        probe_seconds: float,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repo = repo
        self.bucket = bucket
        self.threshold = threshold
        self.probe_seconds = probe_seconds
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._open = False
        self._failures = 0  # as last seen in the shared state
        self._checked_at = float("-inf")
        self._refused = 0  # requests not sent since the last look: what the breaker saved

    @property
    def enabled(self) -> bool:
        return self.threshold > 0

    def is_open(self) -> bool:
        if not self.enabled:
            return False
        with self._lock:
            if self.clock() - self._checked_at < self.refresh_seconds:
                return self._open
            refused, self._refused = self._refused, 0
            self._checked_at = self.clock()
        try:
            state = self.repo.breaker_state(self.bucket, refused)
        except GuildSyncError as exc:  # the database is away: keep what we knew
            log.warning("circuit breaker state unavailable: %s", exc)
            return self._open
        with self._lock:
            self._open, self._failures = state.open, state.failures
            return self._open

    def check(self) -> None:
        """Before an API request: refuse it while Battle.net is out."""
        if self.is_open():
            with self._lock:
                self._refused += 1
            raise BattlenetUnavailable(
                "Battle.net is unavailable (circuit breaker open); try again shortly",
                retry_after=self.probe_seconds,
                reason="breaker",
            )

    def record(self, ok: bool, error: str | None = None) -> None:
        """After an API request. A success is reported only when failures were seen, so a
        healthy system writes nothing."""
        if not self.enabled or (ok and self._failures == 0 and not self._open):
            return
        try:
            state = self.repo.breaker_report(self.bucket, ok, self.threshold, error)
        except GuildSyncError as exc:
            log.warning("circuit breaker report lost: %s", exc)
            return
        with self._lock:
            was_open, self._open = self._open, state.open
            self._failures = state.failures
            self._checked_at = self.clock()
        if self._open and not was_open:
            log.warning("Battle.net keeps failing (%s): circuit breaker open", error)
        elif was_open and not self._open:
            log.warning("Battle.net answers again: circuit breaker closed")

    def claim_probe(self) -> bool:
        """True for one process about every `probe_seconds` while the breaker is open."""
        if not self.enabled:
            return False
        try:
            return self.repo.breaker_claim_probe(self.bucket, int(self.probe_seconds * 1000))
        except GuildSyncError:
            return False


class NoBreaker:
    """For clients that must never be refused (and unit tests)."""

    enabled = False

    def is_open(self) -> bool:
        return False

    def check(self) -> None:
        return None

    def record(self, ok: bool, error: str | None = None) -> None:
        return None

    def claim_probe(self) -> bool:
        return False
