"""The retry policy of every Battle.net call: the one place where a call is tried again.

Only what may succeed on a second try is retried: transport errors (timeouts, refused
connections) and 5xx back off exponentially with full jitter; a 429 waits about a second and
costs no attempt (bounded separately: the budget should prevent them); any other 4xx, a body
that does not parse, a spent budget or an open breaker is an answer, raised at once. Which
errors are retryable is said by the exception tree (`BlizzardError.retryable`).

A call that must not be repeated (an authorization code is single-use) is simply not passed
through `RetryPolicy.run`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception

from shared.errors import BlizzardError, BlizzardRateLimited

R = TypeVar("R")

DEFAULT_MAX_ATTEMPTS = 3  # attempts per call, 429s not counted
MAX_RATE_LIMITED_WAITS = 3  # a bound on 429 waits within one call (the budget prevents them)
RATE_LIMIT_WAIT = 1.0  # seconds, plus jitter
BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, BlizzardError) and exc.retryable


@dataclass(frozen=True)
class RetryPolicy:
    """How often a call is tried (`max_attempts`, 429s not counted) and how waits are slept
    (`sleep`: a fake clock's in unit tests)."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def run(self, attempt: Callable[[], R]) -> R:
        """`attempt()` until it returns, raises something not retryable, or the attempts (or
        the 429 waits) are spent; then its last error is raised as it was."""
        try:  # most calls succeed at once: no retry machinery for them
            return attempt()
        except Exception as exc:
            if not _retryable(exc):
                raise
            failed = [exc]

        def again() -> R:  # the first attempt's failure, then attempts anew
            if failed:
                raise failed.pop()
            return attempt()

        tally = _Tally(self.max_attempts)
        retrying = Retrying(
            retry=retry_if_exception(_retryable),
            stop=tally.stop,
            wait=tally.wait,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(again)


class _Tally:
    """The state of one call: stop after `max_attempts` failed attempts, not counting 429s;
    wait about a second after a 429, else exponential backoff with full jitter."""

    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts
        self.rate_limited = 0

    @staticmethod
    def _last_was_429(state: RetryCallState) -> bool:
        return state.outcome is not None and isinstance(
            state.outcome.exception(), BlizzardRateLimited
        )

    def stop(self, state: RetryCallState) -> bool:
        if self._last_was_429(state):
            self.rate_limited += 1
            return self.rate_limited >= MAX_RATE_LIMITED_WAITS
        return state.attempt_number - self.rate_limited >= self.max_attempts

    def wait(self, state: RetryCallState) -> float:
        if self._last_was_429(state):
            return RATE_LIMIT_WAIT + random.uniform(0.0, 0.2)
        failures = state.attempt_number - self.rate_limited
        return random.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (failures - 1))) + 0.05
