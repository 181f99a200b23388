"""Over the gateway and the emulator: static data, and Battle.net login with real redirects."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from shared.errors import BlizzardError
from tests.conftest import said_to_client
from tests.e2e.conftest import APP, E2E, LOG_DIR

LOGIN_COOKIE = "guild_sync_login"  # over plain http; `__Host-guild_sync_login` over https


def test_static_sync_over_the_gateway(e2e: E2E) -> None:
    e2e.emulator("POST", "/stats/reset")
    url = f"{e2e.gw}/functions/v1/sync-static-data"
    response = e2e.http.post(
        url, json={"regions": ["us"], "gameVersions": ["retail"]}, headers=e2e.service
    )
    assert response.status_code == 200, response.text
    counts = response.json()["counts"]["us"]["retail"]
    realms = e2e.rows(
        "select count(*) as n from wow_realms where region = 'us' and flavor = 'retail'"
    )
    assert counts["realms"] == realms[0]["n"] > 0
    stats = e2e.emulator("GET", "/stats")
    assert stats["requests"] == response.json()["requests"]
    again = e2e.http.post(url, json={}, headers=e2e.service).json()
    changes = again["counts"]["us"]["retail"]["changes"]
    assert all(c == {"inserted": 0, "updated": 0} for c in changes.values())
    unauthorized = e2e.http.post(url, json={})
    assert (
        unauthorized.status_code == 401 and unauthorized.json()["error"]["code"] == "unauthorized"
    )


def test_static_sync_502_when_battlenet_fails(e2e: E2E) -> None:
    e2e.emulator("POST", "/config", {"fault_rate": 1.0})
    response = e2e.http.post(
        f"{e2e.gw}/functions/v1/sync-static-data", json={}, headers=e2e.service
    )
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["message"] == BlizzardError.public_message
    assert "503" not in said_to_client(response.text)
    assert e2e.rows("select count(*) as n from wow_classes") == [{"n": 0}]
    gateway_log = (LOG_DIR / "gateway.log").read_text()
    assert any("503" in line for line in gateway_log.splitlines() if error["id"] in line)


def test_login_through_the_real_redirects(e2e: E2E) -> None:
    session = e2e.login(12)
    me = e2e.http.get(f"{e2e.gw}/api/v1/characters", headers=session.headers)
    assert me.status_code == 200 and me.json() == {"characters": [], "realmGroups": []}
    users = e2e.rows("select battlenet_id, battletag, login_state from users")
    assert users == [{"battlenet_id": 100012, "battletag": "Velen#1012", "login_state": "active"}]


def test_login_queues_a_first_sync_that_the_consumer_runs(e2e: E2E) -> None:
    callback = e2e.authorize(None, 12).headers["Location"]
    answer = e2e.http.get(callback)
    assert answer.status_code == 200 and set(answer.json()) == {"user", "accessToken", "expiresAt"}
    e2e.consume_all()
    chars = e2e.rows("select name, avatar_url from characters where flavor = 'retail'")
    assert len(chars) == 7 and all(c["avatar_url"] for c in chars)


def test_replayed_and_tampered_callbacks(e2e: E2E) -> None:
    callback = e2e.authorize(APP, 3).headers["Location"]
    key = e2e.http.cookies[LOGIN_COOKIE]
    assert e2e.http.get(callback).status_code == 302
    assert LOGIN_COOKIE not in e2e.http.cookies  # the callback cleared it
    replay = httpx.get(callback, headers={"Cookie": f"{LOGIN_COOKIE}={key}"}, timeout=30)
    assert replay.status_code == 400 and "already used" in replay.json()["error"]["message"]
    parts = urlsplit(e2e.authorize(APP, 4).headers["Location"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    tampered = e2e.http.get(
        f"{e2e.gw}{parts.path}", params={**query, "state": query["state"][:-2] + "xx"}
    )
    assert tampered.status_code == 400
    bad_code = e2e.http.get(f"{e2e.gw}{parts.path}", params={**query, "code": "forged"})
    assert bad_code.status_code == 400  # the state was consumed, or the code is rejected
    assert [u["battlenet_id"] for u in e2e.rows("select battlenet_id from users")] == [100003]


def test_denied_consent(e2e: E2E) -> None:
    login = e2e.http.get(f"{e2e.gw}/functions/v1/oauth-flow/login", params={"redirect_to": APP})
    denied = e2e.http.get(login.headers["Location"] + "&deny=1")
    answer = e2e.http.get(denied.headers["Location"])
    assert answer.status_code == 400 and "access_denied" in answer.json()["error"]["message"]
    assert e2e.rows("select count(*) as n from users") == [{"n": 0}]


def test_bad_redirect_is_rejected(e2e: E2E) -> None:
    response = e2e.http.get(
        f"{e2e.gw}/functions/v1/oauth-flow/login", params={"redirect_to": "https://evil.example/"}
    )
    assert response.status_code == 400 and "not allowed" in response.json()["error"]["message"]


def test_a_callback_from_another_browser_is_refused(e2e: E2E) -> None:
    callback = e2e.authorize(APP, 5).headers["Location"]
    with httpx.Client(timeout=30) as other_browser:
        stolen = other_browser.get(callback)
    assert stolen.status_code == 400 and "cookie" in stolen.json()["error"]["message"]
    assert e2e.rows("select count(*) as n from users") == [{"n": 0}]
    assert e2e.http.get(callback).status_code == 302  # the browser that started it completes


def test_operator_syncs_a_user_named_by_battlenet_id(e2e: E2E) -> None:
    session = e2e.login(12)
    url = f"{e2e.gw}/functions/v1/fetch-profile"
    unknown = e2e.http.post(url, params={"battlenet_id": 999999}, headers=e2e.service)
    assert unknown.status_code == 404, unknown.text
    started = e2e.http.post(url, params={"battlenet_id": 100012}, headers=e2e.service)
    assert started.status_code == 202, started.text
    owner = e2e.rows("select user_id::text from character_sync_sessions")
    assert owner == [{"user_id": session.user_id}]
