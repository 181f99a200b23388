"""The queue worker behind `queue_consumer`: claims messages in priority order, runs each one's
job concurrently (bounded), and settles its delivery, until `max_messages` or `max_seconds`.

Round trips: one call claims a batch from the first queue in priority order with visible work
(`queue_claim_first`), a few deliveries at a time rather than one as each thread frees up; the
deliveries whose jobs finished are completed together, their results (`Recorded`) written and
their messages deleted in one call per queue (`queue_complete`) within FLUSH_SECONDS.

How a delivery ends:
- the job's outcome (done, duplicate, failed for good and recorded): deleted, with the result
  the job records (a record that fails is retried by the job's rule, like a failed job);
- Battle.net must be waited for (`WaitForBattlenet`: the budget is spent or the circuit breaker
  is open; Battle.net's own 429; a transient failure while the breaker is open): paused, back
  when the wait is over, the attempt given back; the worker stops claiming that class of work
  until then (interactive work keeps going while bulk work waits for its pace);
- an error the job's retry rule calls transient: retried with exponential backoff and jitter
  through the visibility timeout, until the job's last attempt;
- otherwise, or past the last attempt: the job gives up (e.g. the character counts as failed)
  and the message is archived as dead with the reason. A delivery already past its last
  attempt when claimed (its consumer died every time) is dead-lettered before it runs.
While the breaker is open the worker claims nothing and probes Battle.net instead (one probe
about once a second across every process). A delivery settles only as itself: once the
message was claimed again (its visibility timeout ran out), the stale worker cannot delete,
archive or shorten it. Long jobs extend their deliveries' visibility timeouts while they run.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from typing import Any

from shared.blizzard.breaker import Breaker, NoBreaker
from shared.blizzard.budget import spending
from shared.blizzard.scope import request_scope, submit
from shared.db.queue import Delivery, Finished, Queue, QueueStore
from shared.db.throttle import BudgetClass
from shared.errors import BlizzardRateLimited, GuildSyncError, WaitForBattlenet
from shared.jobs.base import Outcome, Recorded
from shared.jobs.queues import PRIORITY
from shared.jobs.registry import Registry, UnknownMessage
from shared.logs import bind

log = logging.getLogger(__name__)


DEFAULT_VISIBILITY_TIMEOUT = 60
DEFAULT_CONCURRENCY = 16
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
RATE_LIMITED_PAUSE = 1.0  # Battle.net's own 429: "wait about a second", no attempt spent
PAUSE_JITTER = 0.05  # share of a pause added at random, so paused work does not stampede
IDLE_RECHECK = 0.25  # seconds the loop waits for work in flight before it looks around again
IDLE_POLL = 0.1  # seconds before a class of queues found empty is looked at again
PROBE_RECHECK = 1.0  # seconds between looks at an open breaker (and probes, if ours)
BREAKER_PAUSE = 2.0  # a job caught in an outage: back soon; nobody claims it while it lasts
CLAIM_SHARE = 0.5  # claim when this share of the threads is free (or CLAIM_INTERVAL passed)
CLAIM_INTERVAL = 0.02  # seconds: the longest a free thread waits for company before a claim
FLUSH_SECONDS = 0.05  # the longest a finished delivery waits to be completed with others


@dataclass
class ConsumeResult:
    processed: int = 0
    failed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    paused: int = 0
    remaining: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "processed": self.processed,
            "failed": self.failed,
            "retried": self.retried,
            "deadLettered": self.dead_lettered,
            "paused": self.paused,
            "remaining": self.remaining,
        }


@dataclass(frozen=True)
class WorkerOptions:
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY
    backoff_base: float = BACKOFF_BASE
    bulk_share: float = 0.75  # at most this share of the threads on bulk work


@dataclass
class _InFlight:
    queue: Queue
    delivery: Delivery
    claimed_at: float


@dataclass
class _Done:
    """A finished delivery waiting to be completed with others (one call per queue)."""

    queue: Queue
    finished: Finished
    job: Any
    message: Any
    at: float


def _settled(finished: SimpleQueue[Future[str]], timeout: float) -> list[Future[str]]:
    """The deliveries that ended: waits up to `timeout` for the first, takes all that did."""
    try:
        done = [finished.get(timeout=timeout)]
    except Empty:
        return []
    while True:
        try:
            done.append(finished.get_nowait())
        except Empty:
            return done


class Worker:
    def __init__(
        self,
        store: QueueStore,
        registry: Registry,
        options: WorkerOptions | None = None,
        *,
        breaker: Breaker | None = None,
        probe: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.registry = registry
        self.options = options or WorkerOptions()
        self.breaker: Breaker = breaker or NoBreaker()
        self.probe = probe
        self.clock = clock
        self.sleep = sleep
        self.paused_until: dict[BudgetClass, float] = {}
        self.empty_until: dict[Queue, float] = {}  # found empty: not asked again until then
        self._done: list[_Done] = []
        self._done_lock = threading.Lock()

    def _probe(self) -> None:
        """While the breaker is open: one probe, when this process wins the next one."""
        if self.probe is not None and self.breaker.claim_probe():
            answered = self.probe()
            log.info("Battle.net probe: %s", "answered" if answered else "still failing")

    # --- claiming ---------------------------------------------------------------------------

    def claim(self, room: int, bulk_room: int) -> tuple[Queue, list[Delivery]] | None:
        """The next batch, from the first queue in priority order with visible work whose class
        of budget is not paused (one round trip for all of them). A bulk queue found empty is
        not asked again for IDLE_POLL (the interactive one always is); a queue with no room
        (bulk work at its share of the threads) is not asked, and so not taken for empty."""
        now = self.clock()
        wanted: list[tuple[str, int, bool]] = []
        for queue in PRIORITY:
            budget_class = queue.budget_class
            if self.paused_until.get(budget_class, 0.0) > now:
                continue
            if budget_class is BudgetClass.BULK and self.empty_until.get(queue, 0.0) > now:
                continue  # users' work is asked every time: it never waits for a mark
            qty = room if budget_class is BudgetClass.INTERACTIVE else min(room, bulk_room)
            if qty > 0:
                wanted.append((queue.value, qty, queue.fair))
        if not wanted:
            return None
        found = self.store.queue_claim_first(wanted, self.options.visibility_timeout)
        name = found[0] if found else None
        for asked, _, _ in wanted:  # the queues before the one that answered were empty
            if asked == name:
                break
            self.empty_until[Queue(asked)] = now + IDLE_POLL
        if found is None:
            return None
        return Queue(found[0]), found[1]

    # --- one delivery -----------------------------------------------------------------------

    def backoff(self, attempt: int) -> int:
        ceiling = min(BACKOFF_CAP, self.options.backoff_base * 2 ** (attempt - 1))
        return max(1, round(random.uniform(ceiling / 2, ceiling)))

    def process(self, queue: Queue, delivery: Delivery) -> str:
        """Run one delivery's job and settle it; returns what happened."""
        try:
            job, message = self.registry.resolve(delivery.message)
        except UnknownMessage as exc:
            self.store.queue_settle(delivery, "dead", reason=str(exc))
            return "dead"
        if delivery.attempts > job.max_attempts:
            reason = (
                f"gave up after {job.max_attempts} attempts: the last ones ended without an "
                "answer (the consumer died or timed out)"
            )
            return self._bury(job, message, delivery, reason)
        try:
            with spending(queue.budget_class), request_scope() as requests:
                result = job.handle(message, delivery)
        except WaitForBattlenet as exc:
            classes = list(BudgetClass) if exc.reason == "window" else [queue.budget_class]
            return self._pause(delivery, exc.retry_after, exc.reason or "budget", classes)
        except BlizzardRateLimited:
            return self._pause(delivery, RATE_LIMITED_PAUSE, "rate_limited", [])
        except Exception as exc:
            if isinstance(exc, GuildSyncError):
                log.warning("job %s failed: %s", delivery.message.get("type"), exc.message)
                reason = f"{exc.code}: {exc.message}"
            else:
                log.exception("job %s crashed", delivery.message.get("type"))
                reason = f"{type(exc).__name__}: {exc}"
            if job.should_retry(exc) and self.breaker.is_open():
                # Battle.net is out: not this job's failure. Back when it answers again.
                return self._pause(delivery, BREAKER_PAUSE, "breaker", [])
            if job.should_retry(exc) and delivery.attempts < job.max_attempts:
                self.store.queue_settle(delivery, "retry", self.backoff(delivery.attempts), reason)
                return "retried"
            return self._bury(job, message, delivery, reason)
        outcome, record = (
            (result.outcome, result.record) if isinstance(result, Recorded) else (result, None)
        )
        with self._done_lock:  # completed with others by the loop (`_complete`)
            finished = Finished(delivery, record, requests.count)
            self._done.append(_Done(queue, finished, job, message, self.clock()))
        return "failed" if outcome is Outcome.FAILED else "processed"

    def _complete(self, force: bool = False) -> None:
        """Complete the finished deliveries, one call per queue: when FLUSH_SECONDS passed
        since the oldest finished, when as many finished as there are threads, or when
        `force`d.
        A failure to reach the database leaves them for redelivery (their records unwritten,
        as if the consumer had died before them)."""
        with self._done_lock:
            if not self._done:
                return
            due = self._done[0].at + FLUSH_SECONDS <= self.clock()
            if not (force or due or len(self._done) >= self.options.concurrency):
                return
            done, self._done = self._done, []
        by_queue: dict[Queue, list[_Done]] = defaultdict(list)
        for item in done:
            by_queue[item.queue].append(item)
        for queue, items in by_queue.items():
            try:
                completed = self.store.queue_complete(queue.value, [i.finished for i in items])
            except GuildSyncError as exc:
                log.warning("%d deliveries of %s left for redelivery: %s", len(items), queue, exc)
                continue
            for item in items:
                error = completed.failed.get(item.finished.delivery.msg_id)
                if error is not None:
                    self._record_failed(item, error)

    def _record_failed(self, item: _Done, error: str) -> None:
        """A finished job whose record the database refused: retried by the job's rule."""
        delivery = item.finished.delivery
        reason = f"recording the result failed: {error}"
        log.warning("job %s: %s", delivery.message.get("type"), reason)
        try:
            if delivery.attempts < item.job.max_attempts:
                self.store.queue_settle(delivery, "retry", self.backoff(delivery.attempts), reason)
            else:
                self._bury(item.job, item.message, delivery, reason)
        except GuildSyncError as exc:
            log.warning(
                "message %s of %s left for redelivery: %s", delivery.msg_id, item.queue, exc
            )

    def _skipped(self, queue: Queue, now: float) -> bool:
        """Its class of budget is paused, or it was found empty lately."""
        paused = self.paused_until.get(queue.budget_class, 0.0)
        return max(paused, self.empty_until.get(queue, 0.0)) > now

    def _claimable(
        self, room: int, bulk_room: int, left: int, since_claim: float
    ) -> tuple[bool, int]:
        """Whether to claim now, and how much bulk work: a few at a time, when half of the
        threads bulk work may use are free (bulk work takes its claim then, not one by one); a
        free thread (users' work may take any) asks for users' work at once when it was there
        lately, else when it waited CLAIM_INTERVAL."""
        bulk_size = max(1, int(self.options.concurrency * self.options.bulk_share * CLAIM_SHARE))
        bulk = min(room, bulk_room)
        bulk = bulk if bulk >= min(bulk_size, left) else 0
        users_lately = not self._skipped(Queue.CHARACTER_SYNC, self.clock())
        users_due = room > 0 and (users_lately or since_claim >= CLAIM_INTERVAL)
        return bulk > 0 or users_due, bulk

    def _pause(
        self, delivery: Delivery, seconds: float, reason: str, classes: list[BudgetClass]
    ) -> str:
        until = self.clock() + seconds
        for budget_class in classes:
            self.paused_until[budget_class] = max(self.paused_until.get(budget_class, 0.0), until)
        delay = math.ceil(seconds * (1 + random.uniform(0, PAUSE_JITTER)))
        self.store.queue_settle(delivery, "pause", max(1, delay), reason)
        return "paused"

    def _bury(self, job: Any, message: Any, delivery: Delivery, reason: str) -> str:
        job.give_up(message, reason)
        self.store.queue_settle(delivery, "dead", reason=reason)
        return "dead"

    def _safe_process(self, queue: Queue, delivery: Delivery) -> str:
        bind(queue=queue.value, msgId=delivery.msg_id)  # this delivery's log lines (own context)
        try:
            return self.process(queue, delivery)
        except GuildSyncError as exc:  # the database failed while settling: it reappears later
            log.warning("message %s of %s left for redelivery: %s", delivery.msg_id, queue, exc)
            return "retried"

    # --- the loop ---------------------------------------------------------------------------

    def _extend(self, in_flight: dict[Future[str], _InFlight]) -> None:
        """Keep the deliveries of long jobs: extend those older than a third of their
        visibility timeout (one call per queue)."""
        vt = self.options.visibility_timeout
        old = self.clock() - vt / 3
        by_queue: dict[Queue, list[Delivery]] = defaultdict(list)
        for item in in_flight.values():
            if item.claimed_at < old:
                by_queue[item.queue].append(item.delivery)
                item.claimed_at = self.clock()
        for queue, deliveries in by_queue.items():
            try:
                self.store.queue_extend(queue.value, deliveries, vt)
            except GuildSyncError as exc:
                log.warning("could not extend %d deliveries of %s: %s", len(deliveries), queue, exc)

    def run(
        self, max_messages: int = 100, max_seconds: float = 20.0, idle_seconds: float = 0.0
    ) -> ConsumeResult:
        """Keep up to `concurrency` deliveries in flight (at most `bulk_share` of them bulk),
        claiming more as each one settles, in priority order every time, until `max_messages`
        were claimed or `max_seconds` passed; then let the ones in flight finish. While the
        circuit breaker is open it claims nothing and stays until `max_seconds`, probing
        about once a second, so a consumer called once a minute (pg_net) still probes often
        and picks the work up as soon as Battle.net answers. With `idle_seconds`, queues
        found empty are looked at again (every IDLE_POLL) for that long before it answers, so
        work queued just after a call began is not left for the next call."""
        deadline = self.clock() + max_seconds
        outage = False
        busy_at = self.clock()  # when work was last claimed or in flight
        counts: Counter[str] = Counter()
        claimed = 0
        self.empty_until.clear()  # a new call looks at every queue at once
        next_claim = 0.0  # after finding every queue empty, look again a little later
        last_claim = -math.inf
        bulk_threads = max(1, int(self.options.concurrency * self.options.bulk_share))
        in_flight: dict[Future[str], _InFlight] = {}
        finished: SimpleQueue[Future[str]] = SimpleQueue()  # as each one ends
        with ThreadPoolExecutor(self.options.concurrency) as pool:
            while True:
                room = min(self.options.concurrency - len(in_flight), max_messages - claimed)
                bulk_room = bulk_threads - sum(
                    1 for i in in_flight.values() if i.queue.budget_class is BudgetClass.BULK
                )
                now = self.clock()
                claim_due, bulk_qty = self._claimable(
                    room, bulk_room, max_messages - claimed, now - last_claim
                )
                if not in_flight:  # nothing running: take whatever there is
                    claim_due, bulk_qty = True, min(room, bulk_room)
                if room > 0 and now < deadline and now >= next_claim and self.breaker.is_open():
                    outage = True
                    self._probe()  # no claims while Battle.net is out
                    next_claim = self.clock() + PROBE_RECHECK
                elif room > 0 and now < deadline and now >= next_claim and claim_due:
                    outage = False
                    last_claim = now
                    batch = self.claim(room, bulk_qty)
                    if batch is not None:
                        queue, deliveries = batch
                        for delivery in deliveries:
                            future = submit(pool, self._safe_process, queue, delivery)
                            in_flight[future] = _InFlight(queue, delivery, now)
                            future.add_done_callback(finished.put)
                        claimed += len(deliveries)
                        busy_at = now
                        continue
                    # nothing to claim now: look again when a class's empty mark runs out (or,
                    # with work in flight, when some of it settles); complete what finished,
                    # no one else is coming to share the call
                    next_claim = now if in_flight else now + IDLE_POLL
                    self._complete(force=True)
                else:
                    self._complete(force=not in_flight)
                if not in_flight:
                    lingering = now < min(deadline, busy_at + idle_seconds) and room > 0
                    if (outage or lingering) and now < deadline:  # bounded by the deadline
                        self.sleep(max(0.0, min(next_claim, deadline) - self.clock()))
                        continue
                    break
                busy_at = now
                timeout = IDLE_RECHECK
                if room > 0 and now >= next_claim:
                    timeout = min(timeout, max(0.0, last_claim + CLAIM_INTERVAL - now))
                if self._done:
                    timeout = min(timeout, FLUSH_SECONDS)
                done = _settled(finished, timeout)
                for future in done:
                    counts[future.result()] += 1
                    del in_flight[future]
                self._complete()
                self._extend(in_flight)
        self._complete(force=True)
        depths = self.store.queue_depths()
        return ConsumeResult(
            processed=counts["processed"],
            failed=counts["failed"],
            retried=counts["retried"],
            dead_lettered=counts["dead"],
            paused=counts["paused"],
            remaining=sum(depths.get(q.value, 0) for q in PRIORITY),
        )
