"""What a job is: the message model it takes (defined beside it), its retry rule and its
attempts, and the code that runs one message (thin, over a service). The queue a message goes
to is the SQL producer's choice (a login's profile sync is interactive, the daily one bulk)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Generic, TypeVar

from shared.db.queue import Delivery, Record
from shared.errors import BlizzardError, DataError
from shared.jobs.messages import Message

M = TypeVar("M", bound=Message)


class Outcome(StrEnum):
    DONE = "done"  # the work is done: delete the message
    DUPLICATE = "duplicate"  # nothing to do (done already, or its session ended): delete it
    FAILED = "failed"  # failed for good and recorded (e.g. a 404): delete the message


@dataclass(frozen=True)
class Recorded:
    """An outcome with the result the job records: the worker writes the record with the
    delivery's delete, a batch of them in one round trip (`QueueStore.queue_complete`). Until
    then nothing of it is written: a consumer that dies first leaves the message to be
    delivered again, as it would have left it before recording."""

    outcome: Outcome
    record: Record


class Job(Generic[M]):
    """Subclasses set `message` and implement `handle`; `give_up` records a final
    failure; `should_retry` is the one retry rule (transient Battle.net and database errors),
    applied until `max_attempts`. Waiting for the budget is not the job's business: the worker
    pauses the message without counting an attempt."""

    message: ClassVar[type[Message]]
    max_attempts: ClassVar[int] = 2

    def handle(self, message: M, delivery: Delivery) -> Outcome | Recorded:
        raise NotImplementedError

    def give_up(self, message: M, reason: str) -> None:
        """Record the final failure of a message that will not be tried again."""
        return None

    def should_retry(self, exc: Exception) -> bool:
        if isinstance(exc, BlizzardError):
            return exc.retryable
        return isinstance(exc, DataError)
