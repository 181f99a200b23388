"""What a queue job answers: its outcome, or `Retry` to be tried again later."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol


class Outcome(StrEnum):
    DONE = "done"  # the work is done: delete the message
    DUPLICATE = "duplicate"  # already done by an earlier delivery: delete the message
    FAILED = "failed"  # failed for good and recorded (e.g. a 404): delete the message


class Retry(Exception):
    """The job should run again after a backoff (a transient Battle.net failure)."""


class Job(Protocol):
    def handle(self, message: dict[str, Any]) -> Outcome:
        """Do the work of one message; raise `Retry` for a transient failure."""

    def give_up(self, message: dict[str, Any], reason: str) -> None:
        """Record the final failure of a message that will not be tried again."""
