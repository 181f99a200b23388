"""The worker and the jobs over the in-memory repository: pauses that cost no attempt,
retries and give-ups in the job's rule, poison messages, stale deliveries, fairness."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.blizzard.budget import current_class
from shared.db.queue import Completed, Delivery, Record
from shared.db.throttle import BudgetClass
from shared.errors import BlizzardNotFound, BlizzardServerError, BudgetExhausted
from shared.jobs import Job, Outcome, Registry, Worker, WorkerOptions
from shared.jobs.accounts import ProfileSyncJob
from shared.jobs.base import Recorded
from shared.jobs.consumer import pgmq_problem
from shared.jobs.enrich import EnrichCharacterJob
from shared.jobs.scheduled import StaticData
from tests.fakes import FakeClock, Fakes
from tests.fakes.battlenet import StubEnricher
from tests.fakes.queue import FakeQueueStore

USER = str(uuid.uuid4())


def setup(enricher: StubEnricher, names: list[str]) -> tuple[Fakes, Worker, str]:
    clock = FakeClock()
    repo = Fakes(clock)
    chars = [
        {"blizzard_id": i + 1, "realm_id": 1, "realm_slug": "r", "name": n}
        for i, n in enumerate(names)
    ]
    sid = repo.sessions.start_character_sync(
        user_id=USER,
        region="us",
        flavor="retail",
        game_version="retail",
        characters=chars,
        queue="character_sync",
        archive_missing=True,
    ).session_id
    worker = Worker(
        repo.queue, Registry([EnrichCharacterJob(enricher, repo.sessions)]), clock=clock
    )  # type: ignore[arg-type]
    return repo, worker, sid


def drain(repo: Fakes, worker: Worker, rounds: int = 10) -> None:
    for _ in range(rounds):
        worker.run(max_messages=100, max_seconds=5)
        if not any(repo.db.queues.values()):
            return
        repo.db.clock.now += 3600  # let backoffs and pauses run out
        worker.paused_until.clear()


def test_a_session_completes_with_its_results() -> None:
    enricher = StubEnricher(B=BlizzardNotFound("gone"))
    repo, worker, sid = setup(enricher, ["A", "B", "C"])
    result = worker.run(max_messages=10, max_seconds=5)
    session = repo.db.sessions[sid]
    assert (session.status, session.processed, session.failed) == ("completed", 3, 1)
    assert (result.processed, result.failed, result.remaining) == (2, 1, 0)


def test_budget_spent_pauses_without_costing_an_attempt() -> None:
    spent = BudgetExhausted("spent", retry_after=1800, reason="window")
    enricher = StubEnricher(A=[spent, spent, spent, {"level": 70}])
    repo, worker, sid = setup(enricher, ["A"])
    result = worker.run(max_messages=10, max_seconds=5)
    assert result.paused == 1 and repo.db.sessions[sid].status == "processing"
    [message] = repo.db.queues["character_sync"].values()
    assert message.attempts == 0 and message.paused == "window"
    assert message.visible_at >= repo.db.clock.now + 1800
    assert worker.paused_until[BudgetClass.BULK] >= repo.db.clock.now + 1800  # all work waits
    drain(repo, worker)  # paused twice more, then done: never dead-lettered
    assert repo.db.sessions[sid].status == "completed" and repo.db.sessions[sid].failed == 0
    assert repo.db.dead == {}


def test_transient_failures_retry_until_the_last_attempt_then_fail_the_character() -> None:
    enricher = StubEnricher(A=BlizzardServerError("503", http_status=503))
    repo, worker, sid = setup(enricher, ["A"])
    assert worker.run(max_messages=10, max_seconds=5).retried == 1
    drain(repo, worker)
    assert enricher.calls == ["A", "A"]  # two attempts, as the seed says
    assert repo.db.sessions[sid].failed == 1 and repo.db.sessions[sid].status == "completed"
    [dead] = repo.db.dead["character_sync"]
    message, reason = dead.message, dead.reason
    assert message["name"] == "A" and "503" in reason


def test_poison_message_is_dead_lettered_at_claim_time() -> None:
    """A message whose consumer dies every time: its deliveries run out, it never loops."""
    enricher = StubEnricher()
    repo, worker, sid = setup(enricher, ["A"])
    for _ in range(2):  # two deliveries whose consumer died (claimed, never settled)
        repo.queue.queue_claim("character_sync", 60, 10, fair=True)
        repo.db.clock.now += 61
    result = worker.run(max_messages=10, max_seconds=5)
    assert result.dead_lettered == 1 and enricher.calls == []
    assert "consumer died" in repo.db.dead["character_sync"][0].reason
    assert repo.db.sessions[sid].failed == 1  # the character counts as failed


def test_a_message_of_an_expired_session_is_dropped_without_calling_battlenet() -> None:
    enricher = StubEnricher()
    repo, worker, sid = setup(enricher, ["A", "B"])
    repo.sessions.fail_sync_session(sid, "expired")
    assert worker.run(max_messages=10, max_seconds=5).processed == 2
    assert enricher.calls == [] and repo.db.queues["character_sync"] == {}


def test_a_stale_delivery_cannot_settle_the_newer_one() -> None:
    repo = Fakes()
    repo.db.send("character_refresh", {"type": "static_data"})
    stale = repo.queue.queue_claim("character_refresh", 60, 1, fair=False)[0]
    repo.db.clock.now += 61
    fresh = repo.queue.queue_claim("character_refresh", 60, 1, fair=False)[0]
    assert repo.queue.queue_settle(stale, "delete") is False
    assert repo.queue.queue_settle(fresh, "delete") is True


def test_unknown_or_malformed_messages_are_dead_letters() -> None:
    repo = Fakes()
    repo.db.send("character_sync", {"type": "nope"})
    repo.db.send("character_sync", {"type": "enrich_character", "sessionId": "x"})
    worker = Worker(repo.queue, Registry([EnrichCharacterJob(StubEnricher(), repo.sessions)]))  # type: ignore[arg-type]
    assert worker.run(max_messages=10, max_seconds=5).dead_lettered == 2
    assert [d.reason for d in repo.db.dead["character_sync"]] == [
        "unknown message type 'nope'",
        "malformed enrich_character message: 7 errors",
    ]


class Probe(Job[StaticData]):
    message = StaticData

    def __init__(self, answers: dict[str, Exception]) -> None:
        self.answers = answers
        self.seen: list[tuple[str, BudgetClass]] = []

    def handle(self, message: StaticData, delivery: Delivery) -> Outcome:
        region = (message.regions or ["?"])[0]
        self.seen.append((region, current_class()))
        if region in self.answers:
            raise self.answers[region]
        return Outcome.DONE


def test_bulk_waiting_for_its_pace_does_not_stop_users() -> None:
    repo = Fakes()
    for _ in range(3):
        repo.db.send("character_refresh", {"type": "static_data", "regions": ["eu"]})
    probe = Probe({"eu": BudgetExhausted("pace", retry_after=30, reason="pace")})
    worker = Worker(
        repo.queue, Registry([probe]), WorkerOptions(concurrency=1), clock=repo.db.clock
    )
    worker.run(max_messages=10, max_seconds=5)
    assert probe.seen == [("eu", BudgetClass.BULK)]  # one paused, then no more bulk claims
    repo.db.send("character_sync", {"type": "static_data", "regions": ["us"]})
    worker.run(max_messages=10, max_seconds=5)
    assert probe.seen[-1] == ("us", BudgetClass.INTERACTIVE)  # users' work goes on
    assert len(repo.db.queues["character_refresh"]) == 3


def test_a_login_sync_is_skipped_when_the_user_started_one() -> None:
    repo = Fakes()
    started: list[str] = []

    class Sync:
        def start(self, user_id: Any, version: Any) -> None:
            started.append(str(user_id))

    job = ProfileSyncJob(Sync(), repo.sessions)  # type: ignore[arg-type]
    login_at = datetime.now(UTC) - timedelta(seconds=5)
    repo.db.send(
        "character_sync",
        {"type": "profile_sync", "userId": USER, "reason": "login"},
        enqueued_at=login_at,
    )
    repo.db.add_session(USER, [1])  # the user pressed "sync" after logging in
    worker = Worker(repo.queue, Registry([job]))
    assert worker.run(max_messages=10, max_seconds=5).processed == 1
    assert started == []
    repo.db.send("character_sync", {"type": "profile_sync", "userId": USER, "reason": "login"})
    worker.run(max_messages=10, max_seconds=5)
    assert started == [USER]


@pytest.mark.parametrize("attempts", [1, 2])
def test_retry_rule_lives_in_the_job(attempts: int) -> None:
    class Stubborn(Probe):
        max_attempts = attempts

    repo = Fakes()
    repo.db.send("static_data", {"type": "static_data", "regions": ["x"]})
    job = Stubborn({"x": BlizzardServerError("503", http_status=503)})
    worker = Worker(repo.queue, Registry([job]), clock=repo.db.clock)
    for _ in range(3):
        worker.run(max_messages=10, max_seconds=5)
        repo.db.clock.now += 600
    assert len(job.seen) == attempts and len(repo.db.dead["static_data"]) == 1


def test_an_idle_consumer_lingers_for_work_queued_just_after_it_began() -> None:
    repo = Fakes()
    job = Probe({})
    sent = False

    def sleep(seconds: float) -> None:
        nonlocal sent
        repo.db.clock.sleep(seconds)
        if not sent and repo.db.clock.now - started >= 2:  # a user syncs 2 s into the call
            repo.db.send("character_sync", {"type": "static_data", "regions": ["us"]})
            sent = True

    worker = Worker(repo.queue, Registry([job]), clock=repo.db.clock, sleep=sleep)
    started = repo.db.clock.now
    assert worker.run(max_messages=10, max_seconds=50, idle_seconds=5).processed == 1
    assert job.seen == [("us", BudgetClass.INTERACTIVE)]
    assert 7 <= repo.db.clock.now - started < 10  # 5 s idle after the work, then it answered
    started = repo.db.clock.now
    assert worker.run(max_messages=10, max_seconds=50).processed == 0
    assert repo.db.clock.now - started < 1  # without idle_seconds: answers at once


@pytest.mark.parametrize(
    ("version", "supported"),
    [("1.4.4", True), ("1.5.1", True), ("1.13.0", True), ("sql", True), ("1.4.3", False),
     ("1.3.0", False), ("2.0.0", False), (None, False), ("abc", False)],
)  # fmt: skip
def test_pgmq_versions_the_queue_layer_knows(version: str | None, supported: bool) -> None:
    problem = pgmq_problem(version)
    assert (problem is None) is supported
    if problem is not None:
        assert "supported: 1.4.4 or a later 1.x" in problem


class Counting(FakeQueueStore):
    """The fake queue store, counting the worker's round trips by kind."""

    def __init__(self, fakes: Fakes) -> None:
        super().__init__(fakes.db)
        self.calls: Counter[str] = Counter()
        self.batches: list[int] = []

    def queue_claim_first(self, wanted: Any, visibility_timeout: int) -> Any:
        self.calls["claim"] += 1
        return super().queue_claim_first(wanted, visibility_timeout)

    def queue_complete(self, queue: str, finished: Any) -> Completed:
        self.calls["complete"] += 1
        self.batches.append(len(finished))
        return super().queue_complete(queue, finished)

    def queue_settle(self, delivery: Delivery, action: Any, *args: Any, **kwargs: Any) -> bool:
        self.calls[f"settle {action}"] += 1
        return super().queue_settle(delivery, action, *args, **kwargs)


def test_results_are_recorded_with_their_deletes_a_batch_per_round_trip() -> None:
    """40 characters of one session: one claim call per batch over every queue, and the
    results and progress written with the deletes in a few calls, not one per character."""
    fakes = Fakes()
    names = [f"C{i}" for i in range(40)]
    sid = fakes.sessions.start_character_sync(
        user_id=USER, region="us", flavor="retail", game_version="retail",
        characters=[{"blizzard_id": i + 1, "realm_id": 1, "realm_slug": "r", "name": n}
                    for i, n in enumerate(names)],
        queue="character_sync", archive_missing=True,
    ).session_id  # fmt: skip
    store = Counting(fakes)
    job = EnrichCharacterJob(StubEnricher(), fakes.sessions)  # type: ignore[arg-type]
    worker = Worker(store, Registry([job]), WorkerOptions(concurrency=8))
    result = worker.run(max_messages=100, max_seconds=5)
    session = fakes.db.sessions[sid]
    assert (result.processed, session.processed, session.status) == (40, 40, "completed")
    assert fakes.db.queues["character_sync"] == {}
    assert sum(store.batches) == 40 and store.calls["complete"] < 40
    assert store.calls["settle delete"] == 0  # completed in batches, never one by one
    assert store.calls["claim"] <= 40 // 2 + 2  # claims take several messages at once


def test_a_record_the_database_refuses_is_retried_by_the_job_rule() -> None:
    fakes = Fakes()
    store = Counting(fakes)
    fakes.db.send("character_refresh", {"type": "static_data", "regions": ["eu"]})

    class Records(Probe):
        max_attempts = 2

        def handle(self, message: StaticData, delivery: Delivery) -> Any:
            super().handle(message, delivery)
            return Recorded(Outcome.DONE, Record("character_refresh", {"characterId": 1,
                                                                       "result": "bogus",
                                                                       "data": None}))  # fmt: skip

    job = Records({})
    worker = Worker(store, Registry([job]), clock=fakes.db.clock)
    worker.run(max_messages=10, max_seconds=5)
    assert store.calls["settle retry"] == 1 and len(fakes.db.queues["character_refresh"]) == 1
    fakes.db.clock.now += 600
    worker.run(max_messages=10, max_seconds=5)
    assert len(job.seen) == 2 and fakes.db.queues["character_refresh"] == {}
    [dead] = fakes.db.dead["character_refresh"]
    assert "recording the result failed" in dead.reason and "bogus" in dead.reason
