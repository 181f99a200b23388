"""Dead letters put back (`requeue_dead_letters`, the queue-consumer's requeue call) over the
in-memory repositories: an enrichment that failed for good is retried while its session is the
user's latest (the failure undone), and skipped once a newer session exists."""

from __future__ import annotations

import uuid

from shared.errors import BlizzardServerError
from shared.jobs import Registry, Worker
from shared.jobs.enrich import EnrichCharacterJob
from tests.fakes import Fakes
from tests.fakes.battlenet import StubEnricher

USER = str(uuid.uuid4())


def failed_session(fakes: Fakes, enricher: StubEnricher) -> tuple[Worker, str]:
    sid = fakes.sessions.start_character_sync(
        user_id=USER, region="us", flavor="retail", game_version="retail",
        characters=[{"blizzard_id": 1, "realm_id": 1, "realm_slug": "r", "name": "A"}],
        queue="character_sync", archive_missing=True,
    ).session_id  # fmt: skip
    job = EnrichCharacterJob(enricher, fakes.sessions)  # type: ignore[arg-type]
    worker = Worker(fakes.queue, Registry([job]), clock=fakes.clock, sleep=fakes.clock.sleep)
    for _ in range(3):  # every attempt fails: dead-lettered, the character failed
        worker.run(max_messages=10, max_seconds=5)
        fakes.clock.now += 3600
        worker.paused_until.clear()
    assert fakes.db.sessions[sid].failed == 1 and fakes.db.dead["character_sync"]
    return worker, sid


def test_a_requeued_enrichment_undoes_the_failure_and_completes(fakes: Fakes) -> None:
    enricher = StubEnricher(A=[BlizzardServerError("503", http_status=503)] * 2 + [{"level": 1}])
    worker, sid = failed_session(fakes, enricher)
    answer = fakes.queue.requeue_dead_letters("character_sync", None, "503", 100)
    assert answer == {"requeued": 1, "skipped": 0, "byQueue": {"character_sync": 1}}
    session = fakes.db.sessions[sid]
    assert (session.status, session.processed, session.failed) == ("processing", 0, 0)
    worker.run(max_messages=10, max_seconds=5)
    assert (session.status, session.failed) == ("completed", 0)
    again = fakes.queue.requeue_dead_letters(None, None, None, 100)
    assert again["requeued"] == 0  # each dead letter once


def test_a_dead_letter_of_an_older_session_is_skipped(fakes: Fakes) -> None:
    enricher = StubEnricher(A=BlizzardServerError("503", http_status=503))
    _, old = failed_session(fakes, enricher)
    newer = fakes.db.add_session(USER, [])
    answer = fakes.queue.requeue_dead_letters(None, None, "no such reason", 100)
    assert answer["requeued"] == 0 and answer["skipped"] == 0  # the reason filters first
    answer = fakes.queue.requeue_dead_letters(None, None, None, 100)
    assert answer == {"requeued": 0, "skipped": 1, "byQueue": {}}
    assert fakes.db.sessions[old].failed == 1 and fakes.db.sessions[newer].status == "completed"
    assert fakes.db.queues["character_sync"] == {}
