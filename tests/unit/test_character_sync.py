"""`CharacterSyncService` over the in-memory repositories, Battle.net at the HTTP boundary
(pytest-httpx): an account sync deduplicates, reactivates and archives the account's
characters and queues one enrichment each; a running sync, a spent quota and a lost login are
refused before anything is written; one character's enrichment; a session's state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import GameVersion
from shared.crypto import TokenCipher
from shared.db.queue import Queue
from shared.errors import NotFound, ReloginRequired, SyncAlreadyRunning, TooManyRequests
from shared.services.character_sync import CharacterSyncService, UserQuotas
from tests.fakes import Fakes
from tests.fakes.battlenet import api, sample_json
from tests.fakes.db import FakeToken

ACCOUNT = api("/profile/user/wow")
RETAIL = GameVersion.RETAIL


def account(*characters: tuple[int, str, int]) -> dict[str, Any]:
    """An account profile listing (Battle.net id, name, realm id) characters."""
    body = sample_json("account_profile_summary.json")
    template = body["wow_accounts"][0]["characters"][0]
    listed = []
    for blizzard_id, name, realm_id in characters:
        realm = {**template["realm"], "id": realm_id, "slug": f"realm-{realm_id}"}
        listed.append({**template, "id": blizzard_id, "name": name, "realm": realm})
    body["wow_accounts"] = [{**body["wow_accounts"][0], "characters": listed}]
    return body


def user(fakes: Fakes, cipher: TokenCipher, *, expires_in: timedelta = timedelta(hours=20)) -> str:
    found = fakes.users.upsert_login(
        battlenet_id=4242, battletag="Thrall#1", region="us", ciphertext="-", key_id="-",
        expires_at=(fakes.db.now() + expires_in).isoformat(), scopes=["wow.profile"],
        sync_queue=None,
    )  # fmt: skip
    sealed = cipher.encrypt("user-token", associated="4242")
    token = fakes.db.tokens[str(found.id)]
    fakes.db.tokens[str(found.id)] = FakeToken(
        sealed.ciphertext, sealed.key_id, token.expires_at, token.scopes
    )
    return str(found.id)


def service(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, quotas: UserQuotas | None = None
) -> CharacterSyncService:
    return CharacterSyncService(
        client, fakes.users, fakes.sessions, fakes.characters, fakes.limits, cipher, quotas
    )


def active(fakes: Fakes) -> dict[str, bool]:
    return {c.name: c.is_active for c in fakes.db.characters.values()}


def finish(fakes: Fakes, session_id: str) -> None:
    for character_id in list(fakes.db.sessions[session_id].items):
        fakes.sessions.record_character_result(session_id, character_id, "completed", None, None)


def test_a_sync_upserts_the_account_and_queues_one_enrichment_each(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher)
    httpx_mock.add_response(url=ACCOUNT, json=account((1, "Thrall", 10), (2, "Jaina", 11)))
    started = service(fakes, client, cipher).start(uid, RETAIL)
    assert [c["name"] for c in started.characters] == ["Thrall", "Jaina"]
    assert started.as_json()["syncedCharacters"] == 2
    request = httpx_mock.get_requests()[-1]
    assert request.headers["Authorization"] == "Bearer user-token"  # the user's token, decrypted
    messages = [m.message for m in fakes.db.queues[Queue.CHARACTER_SYNC.value].values()]
    assert {m["name"] for m in messages} == {"Thrall", "Jaina"}
    assert {m["sessionId"] for m in messages} == {started.session_id}
    state = service(fakes, client, cipher).state(started.session_id, uid)
    assert state["event"] == "sync-progress" and state["data"]["totalCharacters"] == 2


def test_a_second_sync_deduplicates_reactivates_and_archives(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher)
    sync = service(fakes, client, cipher)
    httpx_mock.add_response(url=ACCOUNT, json=account((1, "Thrall", 10), (2, "Jaina", 11)))
    finish(fakes, sync.start(uid, RETAIL).session_id)
    httpx_mock.add_response(url=ACCOUNT, json=account((1, "Thrall", 10)))
    finish(fakes, sync.start(uid, RETAIL).session_id)
    assert active(fakes) == {"Thrall": True, "Jaina": False}  # Jaina left the account
    httpx_mock.add_response(url=ACCOUNT, json=account((1, "Thrall", 10), (2, "Jaina", 11)))
    sync.start(uid, RETAIL)
    assert active(fakes) == {"Thrall": True, "Jaina": True}  # back: the same row, reactivated
    assert len(fakes.db.characters) == 2
    assert [h["field"] for h in fakes.db.history] == ["active", "active"]


def test_the_same_id_on_another_realm_is_another_character(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher)
    httpx_mock.add_response(url=ACCOUNT, json=account((1, "Thrall", 10), (1, "Thrall", 11)))
    started = service(fakes, client, cipher).start(uid, RETAIL)
    assert len(started.characters) == 2 and len(fakes.db.characters) == 2


def test_a_404_account_archives_nothing(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher)
    sync = service(fakes, client, cipher)
    httpx_mock.add_response(url=ACCOUNT, json=account((1, "Thrall", 10)))
    finish(fakes, sync.start(uid, RETAIL).session_id)
    httpx_mock.add_response(url=ACCOUNT, status_code=404, json={"code": 404})
    started = sync.start(uid, RETAIL)
    assert started.characters == [] and active(fakes) == {"Thrall": True}
    assert fakes.db.sessions[started.session_id].status == "completed"  # born complete


def test_a_running_sync_is_a_409_before_any_request(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher)
    running = fakes.db.add_session(uid, [99])
    with pytest.raises(SyncAlreadyRunning) as raised:
        service(fakes, client, cipher).start(uid, RETAIL)
    assert raised.value.session_id == running
    assert httpx_mock.get_requests() == [] and fakes.db.quota_events == []


def test_an_expired_login_is_a_409_relogin_and_marks_the_user(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher, expires_in=timedelta(seconds=-1))
    with pytest.raises(ReloginRequired):
        service(fakes, client, cipher).start(uid, RETAIL)
    assert fakes.db.users[uid].login_state == "relogin_required"
    assert httpx_mock.get_requests() == [] and fakes.db.quota_events == []


def test_a_revoked_token_marks_relogin(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher)
    httpx_mock.add_response(url=ACCOUNT, status_code=401, json={"code": 401})
    with pytest.raises(ReloginRequired):
        service(fakes, client, cipher).start(uid, RETAIL)
    assert fakes.db.users[uid].login_state == "relogin_required"
    assert fakes.db.sessions == {}


def test_an_unknown_user_is_a_404(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher
) -> None:
    with pytest.raises(NotFound):
        service(fakes, client, cipher).start(str(uuid.uuid4()), RETAIL)


def test_past_the_sync_quota_nothing_is_asked_nor_written(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher)
    sync = service(fakes, client, cipher, UserQuotas(syncs_per_hour=1))
    httpx_mock.add_response(url=ACCOUNT, json=account())  # no character: born completed
    sync.start(uid, RETAIL)
    with pytest.raises(TooManyRequests) as raised:
        sync.start(uid, RETAIL)
    assert 0 < raised.value.retry_after <= 3600
    assert len(httpx_mock.get_requests()) == 1 and len(fakes.db.sessions) == 1  # no request
    httpx_mock.add_response(url=ACCOUNT, json=account())
    sync.start(uid, RETAIL, limited=False)  # the operator is not limited
    assert len(fakes.db.sessions) == 2


def test_a_scheduled_refresh_queues_bulk_refreshes_without_a_session(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher)
    httpx_mock.add_response(url=ACCOUNT, json=account((1, "Thrall", 10), (2, "Jaina", 11)))
    assert service(fakes, client, cipher).refresh(uid, RETAIL) == 2
    refreshes = fakes.db.queues[Queue.CHARACTER_REFRESH.value].values()
    assert sorted(m.message["name"] for m in refreshes) == ["Jaina", "Thrall"]
    assert fakes.db.sessions == {}


def test_one_enrichment_is_queued_once_and_counted(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher, httpx_mock: HTTPXMock
) -> None:
    uid = user(fakes, cipher)
    sync = service(fakes, client, cipher, UserQuotas(enriches_per_hour=1))
    httpx_mock.add_response(url=ACCOUNT, json=account((1, "Thrall", 10), (2, "Jaina", 11)))
    started = sync.start(uid, RETAIL)
    finish(fakes, started.session_id)
    thrall, jaina = (c["id"] for c in started.characters)
    first = sync.enqueue_one(uid, thrall)
    assert first["pending"] is False and first["character"]["name"] == "Thrall"
    again = sync.enqueue_one(uid, thrall)  # the pending one, not counted again
    assert again["pending"] is True and again["sessionId"] == first["sessionId"]
    before = len(fakes.db.queues["character_sync"])
    with pytest.raises(TooManyRequests):
        sync.enqueue_one(uid, jaina)
    assert len(fakes.db.queues["character_sync"]) == before  # nothing queued past the quota
    with pytest.raises(NotFound):
        sync.enqueue_one(str(uuid.uuid4()), thrall)  # not the caller's character


def test_a_session_is_read_by_its_owner_only(
    fakes: Fakes, client: BlizzardClient, cipher: TokenCipher
) -> None:
    sid = fakes.db.add_session("owner", [1])
    sync = service(fakes, client, cipher)
    assert sync.state(sid, None)["data"]["sessionId"] == sid  # the service key
    for wrong in (("not-a-uuid", "owner"), (sid, "someone-else")):
        with pytest.raises(NotFound):
            sync.state(*wrong)
    assert datetime.now(UTC) >= fakes.db.sessions[sid].started_at - timedelta(seconds=1)
