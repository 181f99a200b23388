"""The retry policy on its own: what is tried again, how often, and how long it waits."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.blizzard.retry import (
    BACKOFF_CAP,
    MAX_RATE_LIMITED_WAITS,
    RATE_LIMIT_WAIT,
    RetryPolicy,
)
from shared.errors import (
    BattlenetUnavailable,
    BlizzardForbidden,
    BlizzardNotFound,
    BlizzardRateLimited,
    BlizzardResponseError,
    BlizzardServerError,
    BlizzardTransportError,
    BlizzardUnauthorized,
    BudgetExhausted,
)
from tests.fakes import FakeClock


class Script:
    """An attempt that raises the given errors in turn, then returns "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def policy(clock: FakeClock, max_attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(max_attempts, clock.sleep)


def server_error() -> BlizzardServerError:
    return BlizzardServerError("503", http_status=503)


def rate_limited() -> BlizzardRateLimited:
    return BlizzardRateLimited("429", http_status=429)


def test_transport_errors_and_5xx_are_retried_with_jittered_backoff() -> None:
    clock = FakeClock()
    script = Script(BlizzardTransportError("timeout"), server_error())
    assert policy(clock).run(script) == "done"
    assert script.calls == 3 and len(clock.sleeps) == 2
    assert all(0.05 <= s <= BACKOFF_CAP + 0.05 for s in clock.sleeps)


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    clock = FakeClock()
    last = server_error()
    script = Script(server_error(), server_error(), last, server_error())
    with pytest.raises(BlizzardServerError) as info:
        policy(clock).run(script)
    assert info.value is last and script.calls == 3


def test_one_attempt_means_no_retry() -> None:
    clock = FakeClock()
    script = Script(server_error())
    with pytest.raises(BlizzardServerError):
        policy(clock, max_attempts=1).run(script)
    assert script.calls == 1 and clock.sleeps == []


def test_a_429_waits_about_a_second_and_costs_no_attempt() -> None:
    clock = FakeClock()
    script = Script(rate_limited(), server_error(), rate_limited(), server_error())
    assert policy(clock).run(script) == "done"  # 2 x 429 + 2 failures + success
    assert script.calls == 5
    waits_after_429 = [clock.sleeps[0], clock.sleeps[2]]
    assert all(RATE_LIMIT_WAIT <= s <= RATE_LIMIT_WAIT + 0.2 for s in waits_after_429)


def test_429_waits_are_bounded() -> None:
    clock = FakeClock()
    script = Script(*(rate_limited() for _ in range(10)))
    with pytest.raises(BlizzardRateLimited):
        policy(clock, max_attempts=10).run(script)
    assert script.calls == MAX_RATE_LIMITED_WAITS


@pytest.mark.parametrize(
    "error",
    [
        lambda: BlizzardNotFound("404", http_status=404),
        lambda: BlizzardUnauthorized("401", http_status=401),
        lambda: BlizzardForbidden("403", http_status=403),
        lambda: BlizzardResponseError("bad body"),
        lambda: BudgetExhausted("spent", retry_after=3.0, reason="window"),
        lambda: BattlenetUnavailable("open", retry_after=1.0, reason="breaker"),
        lambda: ValueError("a bug"),
    ],
)
def test_answers_and_waits_are_not_retried(error: Callable[[], Exception]) -> None:
    clock = FakeClock()
    script = Script(error())
    with pytest.raises(type(script.errors[0])):
        policy(clock).run(script)
    assert script.calls == 1 and clock.sleeps == []
