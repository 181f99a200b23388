"""Fakes shared by unit tests."""

from __future__ import annotations


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or a test says)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
