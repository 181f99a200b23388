"""The Battle.net budget, shared by every process (DESIGN.md section 9).

Every API request (never an OAuth-host call) takes a token from `public.rate_limit_take` in
Postgres, which enforces three limits for the client id: BLIZZARD_RATE_PER_SECOND in any second,
BLIZZARD_RATE_PER_HOUR in any window of BLIZZARD_RATE_WINDOW_S seconds (aligned to multiples of
it since the Unix epoch), and for bulk (scheduled) work at most 1 - BLIZZARD_INTERACTIVE_RESERVE
of each window, paced evenly over it. Interactive work (a user's sync, an enrichment, a login's
first sync) may use the rest. Which class a request belongs to is set by `spending(...)` around
the work (the worker does it per message); the default is interactive.

Waiting is bounded and never done holding a lock another thread needs: a wait longer than
`max_block_seconds` raises `BudgetExhausted` with the time to wait, so a job pauses (its message
comes back later without costing an attempt) and a user's call answers 503 with Retry-After.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared.db.throttle import BudgetClass, ThrottleStore
from shared.errors import BudgetExhausted
from shared.settings import Settings

DEFAULT_BATCH = 8  # tokens claimed per round trip (at most a tenth of the per-second limit)
SECOND_EDGE = 0.05  # in a second's last 50 ms a claim asks for one token (spares would lapse)
HOLD_SECONDS = 0.25  # a claimed token is used within this or dropped
MAX_BLOCK_SECONDS = 1.0  # the longest a thread sleeps for the budget
MIN_WAIT = 0.005
WINDOW_EDGE_SECONDS = 0.05  # spare tokens are dropped this close to the end of their window


_class: contextvars.ContextVar[BudgetClass] = contextvars.ContextVar(
    "budget_class", default=BudgetClass.INTERACTIVE
)


@contextmanager
def spending(budget_class: BudgetClass) -> Iterator[None]:
    """Count the Battle.net requests made inside against `budget_class`."""
    token = _class.set(budget_class)
    try:
        yield
    finally:
        _class.reset(token)


def current_class() -> BudgetClass:
    return _class.get()


@dataclass(frozen=True)
class BudgetLimits:
    per_second: int
    per_window: int
    window_s: int
    reserve: float

    @classmethod
    def from_settings(cls, settings: Settings) -> BudgetLimits:
        return cls(
            per_second=settings.blizzard_rate_per_second,
            per_window=settings.blizzard_rate_per_hour,
            window_s=settings.blizzard_rate_window_s,
            reserve=settings.blizzard_interactive_reserve,
        )


class PostgresBudget:
    """The client's `RateLimiter`: `acquire()` returns when one API request may be sent."""

    def __init__(
        self,
        repo: ThrottleStore,
        bucket: str,
        limits: BudgetLimits,
        *,
        batch: int = DEFAULT_BATCH,
        hold_seconds: float = HOLD_SECONDS,
        max_block_seconds: float = MAX_BLOCK_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.repo = repo
        self.bucket = bucket
        self.limits = limits
        self.batch = max(1, min(batch, limits.per_second // 10 or 1))
        self.hold_seconds = hold_seconds
        self.max_block_seconds = max_block_seconds
        self.sleep = sleep
        self.clock = clock
        self.wall = wall  # Battle.net counts requests by the calendar second
        self._lock = threading.Lock()  # guards the local token cache only, never a wait
        self._tokens: dict[BudgetClass, tuple[int, float]] = {}
        self.claims = 0  # round trips to the database, for the benchmarks

    def _take_cached(self, budget_class: BudgetClass) -> bool:
        with self._lock:
            count, expires = self._tokens.get(budget_class, (0, 0.0))
            if count > 0 and self.clock() < expires:
                self._tokens[budget_class] = (count - 1, expires)
                return True
            return False

    def acquire(self) -> None:
        budget_class = current_class()
        deadline = self.clock() + self.max_block_seconds
        while True:
            if self._take_cached(budget_class):
                return
            late = 1.0 - self.wall() % 1.0 <= SECOND_EDGE
            answer = self.repo.rate_limit_take(
                self.bucket,
                1 if late else self.batch,
                budget_class.value,
                self.limits.per_second,
                self.limits.per_window,
                self.limits.window_s,
                self.limits.reserve,
            )
            self.claims += 1
            if answer.granted > 0:
                # Spares are spent within the hold, within the second and the window they were
                # granted in: no second and no window at Battle.net sees more than its limit.
                hold = min(
                    self.hold_seconds,
                    answer.window_ends_in - WINDOW_EDGE_SECONDS,
                    1.0 - self.wall() % 1.0,
                )
                with self._lock:
                    count, _ = self._tokens.get(budget_class, (0, 0.0))
                    spares = count + answer.granted - 1 if hold > 0 else 0
                    self._tokens[budget_class] = (spares, self.clock() + hold)
                return
            wait = max(MIN_WAIT, answer.wait_seconds)
            if self.clock() + wait > deadline:
                raise BudgetExhausted(
                    f"the Battle.net budget for {budget_class.value} work is spent "
                    f"({answer.reason}); next request in {wait:.0f} s",
                    retry_after=wait,
                    reason=answer.reason,
                )
            self.sleep(wait)
