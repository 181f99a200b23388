"""The Python side of the global rate limiter: batched claims, short-lived tokens, bounded
waits (the bucket itself is tested on Postgres in tests/integration)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import BlizzardRateLimited
from shared.ratelimit import PostgresRateLimiter
from tests.fakes import FakeClock


class FakeRepo:
    def __init__(self, answers: list[dict[str, int]]) -> None:
        self.answers = answers
        self.calls: list[tuple[Any, ...]] = []

    def rate_limit_take(self, bucket: str, want: int, per_second: int, per_hour: int) -> Any:
        self.calls.append((bucket, want, per_second, per_hour))
        return self.answers.pop(0)


def limiter(repo: FakeRepo, clock: FakeClock, **kw: Any) -> PostgresRateLimiter:
    return PostgresRateLimiter(
        repo,
        "client",
        100,
        36000,
        sleep=clock.sleep,
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


def test_claims_a_few_tokens_per_round_trip() -> None:
    repo, clock = FakeRepo([{"granted": 4, "waitMs": 0}, {"granted": 4, "waitMs": 0}]), FakeClock()
    rl = limiter(repo, clock)
    for _ in range(8):
        rl.acquire()
    assert repo.calls == [("client", 4, 100, 36000)] * 2 and rl.claims == 2


def test_unused_tokens_expire() -> None:
    repo, clock = FakeRepo([{"granted": 4, "waitMs": 0}, {"granted": 4, "waitMs": 0}]), FakeClock()
    rl = limiter(repo, clock)
    rl.acquire()
    clock.now += 1.0  # the other three were for a second that has passed
    rl.acquire()
    assert len(repo.calls) == 2


def test_waits_as_told_then_gives_up() -> None:
    answers = [{"granted": 0, "waitMs": 40}, {"granted": 1, "waitMs": 0}]
    repo, clock = FakeRepo(answers), FakeClock()
    limiter(repo, clock).acquire()
    assert clock.sleeps == [0.04]
    spent, clock = FakeRepo([{"granted": 0, "waitMs": 3_600_000}]), FakeClock()
    with pytest.raises(BlizzardRateLimited, match="budget"):
        limiter(spent, clock, max_wait_seconds=60).acquire()
