"""The global Battle.net rate limiter: every request, from every process, takes a token from a
bucket kept in Postgres (`public.rate_limit_take`), honouring BLIZZARD_RATE_PER_SECOND and
BLIZZARD_RATE_PER_HOUR for the client id.

Tokens are claimed a few at a time to save round trips, and a claimed token is used at once or
dropped after `hold_seconds`, so a batch cannot be spent in a later second than it was granted
for. Waiting is bounded: past `max_wait_seconds` without a token it raises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shared.db.protocol import Repository
from shared.errors import BlizzardRateLimited

DEFAULT_BATCH = 4
HOLD_SECONDS = 0.25
MAX_WAIT_SECONDS = 120.0
MIN_WAIT = 0.005


class PostgresRateLimiter:
    def __init__(
        self,
        repo: Repository,
        bucket: str,
        per_second: int,
        per_hour: int,
        *,
        batch: int = DEFAULT_BATCH,
        hold_seconds: float = HOLD_SECONDS,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repo = repo
        self.bucket = bucket
        self.per_second = per_second
        self.per_hour = per_hour
        self.batch = max(1, min(batch, per_second // 10 or 1))
        self.hold_seconds = hold_seconds
        self.max_wait_seconds = max_wait_seconds
        self.sleep = sleep
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens = 0
        self._expires = 0.0
        self.claims = 0  # round trips to the database, for the benchmarks

    def acquire(self) -> None:
        deadline = self.clock() + self.max_wait_seconds
        with self._lock:
            while True:
                if self._tokens > 0 and self.clock() < self._expires:
                    self._tokens -= 1
                    return
                answer = self.repo.rate_limit_take(
                    self.bucket, self.batch, self.per_second, self.per_hour
                )
                self.claims += 1
                granted = int(answer["granted"])
                if granted > 0:
                    self._tokens, self._expires = granted, self.clock() + self.hold_seconds
                    continue
                wait = max(MIN_WAIT, int(answer["waitMs"]) / 1000)
                if self.clock() + wait > deadline:
                    raise BlizzardRateLimited(
                        f"the Battle.net budget of client {self.bucket} is spent; "
                        f"next request in {wait:.0f} s"
                    )
                self.sleep(wait)
