"""`ThrottleStore` in memory: the budget answers what a test queued in `db.budget` (granting
everything when it runs out) and records each call; the breaker opens after `threshold`
failures in a row, closes on a success, and lets one probe through per interval."""

from __future__ import annotations

from shared.db.throttle import BreakerState, BudgetAnswer
from tests.fakes.db import FakeDb


class FakeThrottleStore:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def rate_limit_take(
        self,
        bucket: str,
        want: int,
        budget_class: str,
        per_second: int,
        per_window: int,
        window_s: int,
        reserve: float,
    ) -> BudgetAnswer:
        self.db.budget_calls.append((budget_class, want))
        return self.db.budget.pop(0) if self.db.budget else BudgetAnswer(want, 0.0, None)

    def breaker_state(self, bucket: str, refused: int) -> BreakerState:
        b = self.db.breaker
        if b["open"]:
            b["refused"] += refused
        return BreakerState(b["open"], b["failures"])

    def breaker_report(
        self, bucket: str, ok: bool, threshold: int, error: str | None
    ) -> BreakerState:
        b = self.db.breaker
        if ok:
            b.update(open=False, failures=0)
        else:
            b["failures"] += 1
            if not b["open"] and threshold > 0 and b["failures"] >= threshold:
                b["open"], b["probe_at"] = True, self.db.clock.now + 1.0
        return BreakerState(b["open"], b["failures"])

    def breaker_claim_probe(self, bucket: str, interval_ms: int) -> bool:
        b = self.db.breaker
        if not b["open"] or self.db.clock.now < b["probe_at"]:
            return False
        b["probe_at"] = self.db.clock.now + interval_ms / 1000
        return True
