"""`CharacterEnricher` and the enrichment job over the in-memory repositories, Battle.net at
the HTTP boundary: the profile and media become the character's data, a media failure leaves
media out, and the job's outcomes (done, duplicate, failed for good, retried) advance the
session as the SQL does."""

from __future__ import annotations

import uuid

import pytest
from pytest_httpx import HTTPXMock

from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import GameVersion, Region
from shared.db.queue import Delivery, Finished
from shared.errors import BlizzardServerError
from shared.jobs.base import Outcome, Recorded
from shared.jobs.enrich import EnrichCharacter, EnrichCharacterJob
from shared.services.enrichment import CharacterEnricher
from tests.fakes import Fakes
from tests.fakes.battlenet import add_token, api, sample, sample_json

PROFILE = api("/profile/wow/character/norgannon/drinian")
MEDIA = api("/profile/wow/character/norgannon/drinian/character-media")
USER = str(uuid.uuid4())


def test_profile_and_media_become_the_characters_data(
    client: BlizzardClient, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(
        url=PROFILE,
        content=sample("character_profile_summary.json"),
        headers={"Last-Modified": "Tue, 01 Dec 2026 08:00:00 GMT"},
    )
    httpx_mock.add_response(url=MEDIA, content=sample("character_media.json"))
    data = CharacterEnricher(client).fetch(Region.US, GameVersion.RETAIL, "norgannon", "Drinian")
    profile = sample_json("character_profile_summary.json")
    assert data["level"] == profile["level"] and data["realm_name"] == "Norgannon"
    assert data["guild"]["slug"] == "mythical-warriors" and data["guild"]["faction"] == "ALLIANCE"
    assert data["last_modified"] == "2026-12-01T08:00:00+00:00"
    assert set(data["media"]) == {"avatar", "inset", "main", "main-raw"}


def test_a_media_failure_leaves_media_out(client: BlizzardClient, httpx_mock: HTTPXMock) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=PROFILE, content=sample("character_profile_summary.json"))
    httpx_mock.add_response(url=MEDIA, status_code=403, json={"code": 403})
    data = CharacterEnricher(client.with_attempts(1)).fetch(
        Region.US, GameVersion.RETAIL, "norgannon", "Drinian"
    )
    assert "media" not in data and data["name"] == "Drinian"


def session_of_one(fakes: Fakes) -> tuple[EnrichCharacter, Delivery, str]:
    started = fakes.sessions.start_character_sync(
        user_id=USER, region="us", flavor="retail", game_version="retail",
        characters=[{"blizzard_id": 107811065, "name": "Drinian", "realm_id": 1262,
                     "realm_slug": "norgannon", "level": 50}],
        queue="character_sync", archive_missing=True,
    )  # fmt: skip
    [delivery] = fakes.queue.queue_claim("character_sync", 60, 1, fair=True)
    return EnrichCharacter.model_validate(delivery.message), delivery, started.session_id


def test_the_job_records_the_character_and_completes_the_session(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=PROFILE, content=sample("character_profile_summary.json"))
    httpx_mock.add_response(url=MEDIA, content=sample("character_media.json"))
    message, delivery, sid = session_of_one(fakes)
    job = EnrichCharacterJob(CharacterEnricher(client), fakes.sessions)
    done = job.handle(message, delivery)
    assert isinstance(done, Recorded) and done.outcome is Outcome.DONE
    assert fakes.db.sessions[sid].processed == 0  # written with the delivery's delete
    finished = fakes.queue.queue_complete("character_sync", [Finished(delivery, done.record)])
    assert finished.deleted == {delivery.msg_id} and finished.failed == {}
    assert fakes.db.sessions[sid].status == "completed"
    assert fakes.db.characters[message.character_id].avatar_url is not None
    events = [e["event"] for e in fakes.sessions.sync_events_since(sid, 0)]
    assert events == ["sync-progress", "sync-progress", "sync-complete"]
    assert job.handle(message, delivery) is Outcome.DUPLICATE  # delivered twice: once


def test_a_404_fails_the_character_at_once(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=PROFILE, status_code=404, json={"code": 404})
    message, delivery, sid = session_of_one(fakes)
    job = EnrichCharacterJob(CharacterEnricher(client), fakes.sessions)
    assert job.handle(message, delivery) is Outcome.FAILED
    session = fakes.db.sessions[sid]
    assert (session.status, session.failed) == ("completed", 1)
    assert session.errors[message.character_id] == "character not found on Battle.net"


def test_a_transient_failure_is_raised_for_a_retry_and_changes_nothing(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=PROFILE, status_code=503)
    message, delivery, sid = session_of_one(fakes)
    job = EnrichCharacterJob(CharacterEnricher(client.with_attempts(1)), fakes.sessions)
    with pytest.raises(BlizzardServerError):
        job.handle(message, delivery)
    assert fakes.db.sessions[sid].processed == 0
    assert fakes.db.sessions[sid].items[message.character_id] == "processing"
