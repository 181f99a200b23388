"""The queue worker behind `queue_consumer`: drains pgmq queues in priority order, processing
each batch concurrently (bounded), until `max_messages` or `max_seconds`.

For each message: the job's outcome decides (done, duplicate or failed for good: delete);
`Retry` puts it back with exponential backoff and jitter through the visibility timeout, until
its last attempt, after which the job gives up and the message is archived as dead with the
reason. A message whose consumer died reappears when its visibility timeout ends.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from shared.db.protocol import QueueMessage, Repository
from shared.errors import BlizzardError, DataError, GuildSyncError
from shared.queues import PRIORITY, Queue
from shared.worker_types import Job, Outcome, Retry

log = logging.getLogger(__name__)


def _transient(exc: GuildSyncError) -> bool:
    """Worth another attempt: Battle.net's transient failures and the database's."""
    if isinstance(exc, BlizzardError):
        return exc.retryable
    return isinstance(exc, DataError)


DEFAULT_VISIBILITY_TIMEOUT = 60
DEFAULT_MAX_ATTEMPTS = 2
DEFAULT_CONCURRENCY = 16
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
IDLE_RECHECK = 0.25  # seconds between looks at empty queues while work is in flight


@dataclass
class ConsumeResult:
    processed: int = 0
    failed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    remaining: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "processed": self.processed,
            "failed": self.failed,
            "retried": self.retried,
            "deadLettered": self.dead_lettered,
            "remaining": self.remaining,
        }


@dataclass(frozen=True)
class WorkerOptions:
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    concurrency: int = DEFAULT_CONCURRENCY
    backoff_base: float = BACKOFF_BASE


class QueueWorker:
    def __init__(
        self, repo: Repository, jobs: dict[str, Job], options: WorkerOptions | None = None
    ) -> None:
        self.repo = repo
        self.jobs = jobs
        self.options = options or WorkerOptions()

    def backoff(self, attempt: int) -> int:
        ceiling = min(BACKOFF_CAP, self.options.backoff_base * 2 ** (attempt - 1))
        return max(1, round(random.uniform(ceiling / 2, ceiling)))

    def claim(self, qty: int) -> tuple[Queue, list[QueueMessage]] | None:
        """The next batch, from the first queue in priority order that has visible work."""
        for queue in PRIORITY:
            messages = self.repo.db.queue_read(queue.value, self.options.visibility_timeout, qty)
            if messages:
                return queue, messages
        return None

    def process(self, queue: Queue, message: QueueMessage) -> str:
        """Run one message's job and settle the message; returns what happened."""
        body: dict[str, Any] = message.message
        job = self.jobs.get(str(body.get("type")))
        if job is None:
            self.repo.queue_dead_letter(
                queue.value, message.msg_id, f"unknown message type {body.get('type')!r}"
            )
            return "dead"
        try:
            outcome = job.handle(body)
        except Retry as exc:
            return self._retry_or_bury(queue, message, job, str(exc))
        except GuildSyncError as exc:
            log.warning("job %s failed: %s", body.get("type"), exc.message)
            final = not _transient(exc)
            return self._retry_or_bury(queue, message, job, f"{exc.code}: {exc.message}", final)
        except Exception as exc:
            log.exception("job %s crashed", body.get("type"))
            return self._retry_or_bury(queue, message, job, f"{type(exc).__name__}: {exc}")
        self.repo.db.queue_delete(queue.value, message.msg_id)
        return "failed" if outcome is Outcome.FAILED else "processed"

    def _retry_or_bury(
        self, queue: Queue, message: QueueMessage, job: Job, reason: str, final: bool = False
    ) -> str:
        if not final and message.read_ct < self.options.max_attempts:
            self.repo.queue_set_vt(queue.value, message.msg_id, self.backoff(message.read_ct))
            return "retried"
        job.give_up(message.message, reason)
        self.repo.queue_dead_letter(queue.value, message.msg_id, reason)
        return "dead"

    def run(self, max_messages: int = 100, max_seconds: float = 20.0) -> ConsumeResult:
        """Keep up to `concurrency` messages in flight, claiming more as each one settles (in
        priority order every time), until `max_messages` were claimed or `max_seconds` passed,
        then let the ones in flight finish."""
        deadline = time.monotonic() + max_seconds
        counts: Counter[str] = Counter()
        claimed = 0
        next_claim = 0.0  # after finding every queue empty, look again a little later
        in_flight: set[Future[str]] = set()
        with ThreadPoolExecutor(self.options.concurrency) as pool:
            while True:
                room = min(self.options.concurrency - len(in_flight), max_messages - claimed)
                now = time.monotonic()
                if room > 0 and now < deadline and now >= next_claim:
                    batch = self.claim(room)
                    if batch is not None:
                        queue, messages = batch
                        in_flight |= {pool.submit(self._safe_process, queue, m) for m in messages}
                        claimed += len(messages)
                        continue
                    next_claim = now + IDLE_RECHECK
                if not in_flight:
                    break
                done, in_flight = wait(in_flight, timeout=IDLE_RECHECK, return_when=FIRST_COMPLETED)
                counts.update(f.result() for f in done)
        depths = self.repo.queue_depths()
        return ConsumeResult(
            processed=counts["processed"],
            failed=counts["failed"],
            retried=counts["retried"],
            dead_lettered=counts["dead"],
            remaining=sum(depths.get(q.value, 0) for q in PRIORITY),
        )

    def _safe_process(self, queue: Queue, message: QueueMessage) -> str:
        try:
            return self.process(queue, message)
        except GuildSyncError as exc:  # the database failed while settling: it reappears later
            log.warning("message %s of %s left for redelivery: %s", message.msg_id, queue, exc)
            return "retried"
