"""The Python side of the budget: batched claims per class, short-lived tokens, waits bounded
by a small limit, never taken while holding the lock (the SQL is tested on Postgres)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from shared.blizzard.budget import BudgetLimits, PostgresBudget, spending
from shared.db.throttle import BudgetAnswer, BudgetClass
from shared.errors import BudgetExhausted
from tests.fakes import FakeClock, Fakes

LIMITS = BudgetLimits(per_second=100, per_window=36000, window_s=3600, reserve=0.2)


def budget(repo: Fakes, clock: FakeClock, **kw: Any) -> PostgresBudget:
    kw.setdefault("wall", lambda: 1_000_000.25 + clock.now)  # a quarter into a second
    return PostgresBudget(repo.throttle, "client", LIMITS, sleep=clock.sleep, clock=clock, **kw)


def test_claims_a_few_tokens_per_round_trip_per_class() -> None:
    clock = FakeClock()
    repo = Fakes(clock)
    limiter = budget(repo, clock)
    for _ in range(16):
        limiter.acquire()
    with spending(BudgetClass.BULK):
        limiter.acquire()
    assert repo.db.budget_calls == [("interactive", 8)] * 2 + [("bulk", 8)]
    assert limiter.claims == 3


def test_unused_tokens_expire() -> None:
    clock = FakeClock()
    repo = Fakes(clock)
    limiter = budget(repo, clock)
    limiter.acquire()
    clock.now += 1.0  # the other seven were for a moment that has passed
    limiter.acquire()
    assert len(repo.db.budget_calls) == 2


def test_short_waits_sleep_long_ones_raise_with_the_wait() -> None:
    clock = FakeClock()
    repo = Fakes(clock)
    repo.db.budget = [BudgetAnswer(0, 0.04, "second"), BudgetAnswer(1, 0, None)]
    budget(repo, clock).acquire()
    assert clock.sleeps == [0.04]
    repo.db.budget = [BudgetAnswer(0, 1800.0, "window")]
    with pytest.raises(BudgetExhausted) as raised:
        budget(repo, clock).acquire()
    assert raised.value.retry_after == 1800.0 and raised.value.reason == "window"
    assert clock.sleeps == [0.04]  # it never slept for the window
    assert raised.value.status == 503 and raised.value.public == {"retryAfter": 1800}


def test_waits_are_bounded_in_total() -> None:
    clock = FakeClock()
    repo = Fakes(clock)
    repo.db.budget = [BudgetAnswer(0, 0.4, "pace")] * 10
    with pytest.raises(BudgetExhausted):
        budget(repo, clock, max_block_seconds=1.0).acquire()
    assert sum(clock.sleeps) <= 1.0


def test_no_lock_is_held_while_waiting() -> None:
    """A thread waiting for bulk pace does not hold up an interactive request."""
    repo = Fakes()
    entered, release = threading.Event(), threading.Event()

    def slow_sleep(seconds: float) -> None:
        entered.set()
        release.wait(5)

    repo.db.budget = [BudgetAnswer(0, 0.5, "pace")]
    limiter = PostgresBudget(repo.throttle, "client", LIMITS, sleep=slow_sleep)

    def bulk() -> None:
        with spending(BudgetClass.BULK):
            limiter.acquire()

    waiter = threading.Thread(target=bulk)
    waiter.start()
    assert entered.wait(5)
    limiter.acquire()  # interactive: granted while the bulk thread sleeps
    release.set()
    waiter.join(5)
    assert [c for c, _ in repo.db.budget_calls] == ["bulk", "interactive", "bulk"]


def test_spares_lapse_with_the_second_they_were_granted_in() -> None:
    """Battle.net counts by the calendar second: a spare token granted in one second is not
    spent in the next, and in a second's last moments a claim asks for one token only."""
    clock = FakeClock()
    repo = Fakes(clock)
    second = [1_000_000.90]
    limiter = budget(repo, clock, wall=lambda: second[0])
    limiter.acquire()  # 0.1 s before the second ends: a batch, its spares good until then
    second[0] = 1_000_001.01  # the next second: the spares are gone
    clock.now += 0.11
    limiter.acquire()
    assert [want for _, want in repo.db.budget_calls] == [8, 8]
    second[0] = 1_000_001.97  # its last 50 ms: one token
    limiter._tokens.clear()
    limiter.acquire()
    assert [want for _, want in repo.db.budget_calls] == [8, 8, 1]
