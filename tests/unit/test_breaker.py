"""The circuit breaker over the in-memory repository: shared by every process, opened by
consecutive failures, one probe per interval, closed by a success; the worker claims nothing
while it is open and jobs caught in the outage pause without spending an attempt."""

from __future__ import annotations

import uuid

import pytest

from shared.blizzard.breaker import CircuitBreaker
from shared.errors import BattlenetUnavailable, BlizzardServerError
from shared.jobs import Registry, Worker
from shared.jobs.enrich import EnrichCharacterJob
from tests.fakes import FakeClock, Fakes
from tests.fakes.battlenet import StubEnricher


def breakers(repo: Fakes, n: int = 2) -> list[CircuitBreaker]:
    return [
        CircuitBreaker(repo.throttle, "client", threshold=3, probe_seconds=1.0, clock=repo.db.clock)
        for _ in range(n)
    ]


def test_failures_from_every_process_open_it_and_a_success_closes_it() -> None:
    repo = Fakes()
    a, b = breakers(repo)
    a.record(False, "HTTP 503")
    b.record(False, "ReadTimeout")
    a.check()  # two failures: still closed
    b.record(False, "HTTP 503")
    assert a.is_open() is False  # a's view is at most a second old ...
    repo.db.clock.now += 1.0
    assert a.is_open() is True  # ... then it sees what b saw
    with pytest.raises(BattlenetUnavailable) as refused:
        a.check()
    assert refused.value.status == 503 and refused.value.public == {"retryAfter": 1}
    repo.db.clock.now += 1.0
    a.is_open()
    assert repo.db.breaker["refused"] == 1  # what the outage saved, reported with the next look
    assert [a.claim_probe(), b.claim_probe()] == [True, False]  # one probe per interval
    repo.db.clock.now += 1.0
    assert b.claim_probe() is True
    b.record(True)
    assert b.is_open() is False
    repo.db.clock.now += 1.0
    assert a.is_open() is False


def test_a_healthy_system_writes_nothing() -> None:
    repo = Fakes()
    [breaker] = breakers(repo, 1)
    for _ in range(100):
        breaker.record(True)
    assert repo.db.breaker["failures"] == 0


def test_disabled_breaker_never_opens() -> None:
    repo = Fakes()
    breaker = CircuitBreaker(repo.throttle, "client", threshold=0, probe_seconds=1.0)
    for _ in range(10):
        breaker.record(False)
    breaker.check()
    assert repo.db.breaker["failures"] == 0


def test_worker_probes_instead_of_claiming_and_outage_failures_pause() -> None:
    clock = FakeClock()
    repo = Fakes(clock)
    [breaker] = breakers(repo, 1)
    user = str(uuid.uuid4())
    sid = repo.sessions.start_character_sync(
        user_id=user, region="us", flavor="retail", game_version="retail",
        characters=[{"blizzard_id": 1, "realm_id": 1, "realm_slug": "r", "name": "A"}],
        queue="character_sync", archive_missing=True,
    ).session_id  # fmt: skip
    failing = BlizzardServerError("503", http_status=503)

    class OpensTheBreaker(StubEnricher):
        def fetch(self, *args: object) -> dict[str, object]:
            for _ in range(3):
                breaker.record(False, "HTTP 503")
            raise failing

    probes: list[bool] = []
    worker = Worker(
        repo.queue,
        Registry([EnrichCharacterJob(OpensTheBreaker(), repo.sessions)]),  # type: ignore[arg-type]
        breaker=breaker,
        probe=lambda: probes.append(True) or False,
        clock=clock,
        sleep=clock.sleep,
    )
    result = worker.run(max_messages=10, max_seconds=5)
    assert result.paused == 1 and result.retried == 0  # the outage's failure costs nothing
    [message] = repo.db.queues["character_sync"].values()
    assert message.attempts == 0 and message.paused == "breaker"
    clock.now += 10  # the pause is over, but the breaker is still open
    before, started = len(probes), clock.now
    worker.run(max_messages=10, max_seconds=5)
    assert len(repo.db.queues["character_sync"]) == 1 and message.read_ct == 1  # not claimed
    assert len(probes) - before == 5  # it stayed its 5 s, probing once a second
    assert clock.now - started >= 5
    assert repo.db.sessions[sid].status == "processing" and repo.db.sessions[sid].failed == 0
