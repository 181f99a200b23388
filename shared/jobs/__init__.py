"""Background jobs, one room: each job with its message model, its code, its retry rule and
attempts (`enrich`, `accounts`, `scheduled`), the registry of type to job, the order the queues
are drained in, and the worker that claims, runs and settles deliveries."""

from shared.db.queue import Queue
from shared.jobs.base import Job, Outcome
from shared.jobs.queues import PRIORITY
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
