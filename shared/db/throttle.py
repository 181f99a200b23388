"""What the Battle.net client's global budget and circuit breaker share across processes:
token buckets per budget class (`rate_limit_take`) and the breaker's state per bucket."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shared.db.base import SqlStore
from shared.db.protocol import JSON


class BudgetClass(StrEnum):
    """Whose share of the Battle.net budget a request spends (`rate_limit_take`'s class):
    users' interactive work, or scheduled bulk work (paced, capped below the window)."""

    INTERACTIVE = "interactive"
    BULK = "bulk"


@dataclass(frozen=True)
class BudgetAnswer:
    granted: int
    wait_seconds: float
    reason: str | None  # which limit refused: 'second', 'pace' or 'window'
    window_ends_in: float = float("inf")  # seconds: tokens granted now are spent before


@dataclass(frozen=True)
class BreakerState:
    open: bool
    failures: int

    @classmethod
    def from_json(cls, row: JSON) -> BreakerState:
        return cls(bool(row["open"]), int(row["failures"]))


class ThrottleStore(Protocol):
    def rate_limit_take(
        self,
        bucket: str,
        want: int,
        budget_class: str,
        per_second: int,
        per_window: int,
        window_s: int,
        reserve: float,
    ) -> BudgetAnswer: ...
    def breaker_state(self, bucket: str, refused: int) -> BreakerState: ...
    def breaker_report(
        self, bucket: str, ok: bool, threshold: int, error: str | None
    ) -> BreakerState: ...
    def breaker_claim_probe(self, bucket: str, interval_ms: int) -> bool: ...


class SqlThrottleStore(SqlStore):
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
        answer: JSON = self._call(
            "rate_limit_take",
            p_bucket=bucket,
            p_want=want,
            p_class=budget_class,
            p_per_second=per_second,
            p_per_window=per_window,
            p_window_s=window_s,
            p_reserve=reserve,
        )
        return BudgetAnswer(
            int(answer["granted"]),
            int(answer["waitMs"]) / 1000,
            answer.get("reason"),
            int(answer["windowEndsInMs"]) / 1000,
        )

    def breaker_state(self, bucket: str, refused: int) -> BreakerState:
        """The shared state; `refused` requests saved by an open breaker are counted."""
        return BreakerState.from_json(
            self._call("breaker_state", p_bucket=bucket, p_refused=refused)
        )

    def breaker_report(
        self, bucket: str, ok: bool, threshold: int, error: str | None
    ) -> BreakerState:
        """A success closes the breaker; `threshold` failures in a row open it."""
        return BreakerState.from_json(
            self._call(
                "breaker_report", p_bucket=bucket, p_ok=ok, p_threshold=threshold, p_error=error
            )
        )

    def breaker_claim_probe(self, bucket: str, interval_ms: int) -> bool:
        """True for one caller per `interval_ms` while the breaker is open."""
        return bool(self._call("breaker_claim_probe", p_bucket=bucket, p_interval_ms=interval_ms))
