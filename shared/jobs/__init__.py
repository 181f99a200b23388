"""Background jobs, one room: each message type's model (`messages`), its job (the code, its
queue, its retry rule and attempts: `enrich`, `accounts`, `scheduled`), the registry of type to
job, the queues and their priority, and the worker that claims, runs and settles deliveries."""

from shared.jobs.base import Job, Outcome
from shared.jobs.queues import PRIORITY, Queue
from shared.jobs.registry import Registry
from shared.jobs.worker import ConsumeResult, Worker, WorkerOptions

__all__ = [
    "PRIORITY",
    "ConsumeResult",
    "Job",
    "Outcome",
    "Queue",
    "Registry",
    "Worker",
    "WorkerOptions",
]
