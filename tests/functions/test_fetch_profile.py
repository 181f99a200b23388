"""fetch_profile and queue_consumer through functions-framework's test client, with the real
Postgres and Battle.net faked at the HTTP boundary."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from flask.testing import FlaskClient

from shared.auth import mint_service_key, mint_user_token
from shared.bootstrap import App, bootstrap
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.instance import set_app
from shared.settings import DEV_JWT_SECRET
from tests.conftest import legacy_settings
from tests.functions.conftest import (
    FakeBattleNet,
    function_client,
    make_user,
    sample_json,
    service_headers_for,
    user_headers,
)

SYNC = "/api/v1/characters/sync"


@pytest.fixture
def client() -> FlaskClient:
    return function_client("fetch_profile")


@pytest.fixture
def profiles(battlenet: FakeBattleNet) -> FakeBattleNet:
    account = sample_json("account_profile_summary_2.json")
    profile = sample_json("character_profile_summary.json")
    media = sample_json("character_media.json")

    def char_profile(request: httpx.Request) -> httpx.Response:
        realm, name = request.url.path.split("/")[4:6]
        if name == "velukh" and realm == "arygos":
            return httpx.Response(404, json={"code": 404, "detail": "Not Found"})
        return httpx.Response(
            200,
            json={**profile, "name": name.title(), "realm": {**profile["realm"], "slug": realm}},
            headers={"Last-Modified": "Sun, 01 Nov 2026 12:00:00 GMT"},
        )

    battlenet.route(r"^/profile/user/wow$", lambda r: httpx.Response(200, json=account))
    battlenet.route(r"^/profile/wow/character/[^/]+/[^/]+$", char_profile)
    battlenet.route(r"/character-media$", lambda r: httpx.Response(200, json=media))
    return battlenet


def test_sync_then_consume_end_to_end(
    client: FlaskClient,
    consumer: FlaskClient,
    app: App,
    profiles: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    user = make_user(app)
    response = client.post(
        SYNC, json={"gameVersion": "retail"}, headers=user_headers(app.settings, user)
    )
    assert response.status_code == 202 and response.json
    body = response.json
    assert body["message"] == "Character sync started" and body["syncedCharacters"] == 3
    account_call = next(r for r in profiles.requests if r.url.path == "/profile/user/wow")
    assert account_call.headers["Authorization"] == "Bearer user-token"
    drained = consumer.post(
        "/functions/v1/queue-consumer", json={"maxMessages": 10}, headers=service_headers
    ).json
    assert drained == {
        "processed": 2,
        "failed": 1,
        "retried": 0,
        "deadLettered": 0,
        "paused": 0,
        "remaining": 0,
    }
    state = client.get(f"{SYNC}/{body['sessionId']}", headers=user_headers(app.settings, user)).json
    assert state and state["status"] == "completed" and state["failedCharacters"] == 1
    with db.connection() as conn:
        chars = conn.execute(
            "select c.*, g.name as guild from characters c "
            "left join guilds g on g.id = c.guild_id order by c.name"
        ).fetchall()
    enriched = [c for c in chars if c["enriched_at"]]
    assert len(enriched) == 2 and all(c["guild"] == "Mythical Warriors" for c in enriched)
    assert all(c["avatar_url"].endswith("-avatar.jpg") for c in enriched)
    assert all(c["equipped_item_level"] == 430 for c in enriched)
    assert {c["last_modified"] for c in enriched} == {datetime(2026, 11, 1, 12, tzinfo=UTC)}


def test_media_failure_saves_the_character_without_it(
    client: FlaskClient,
    consumer: FlaskClient,
    app: App,
    profiles: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    profiles.failures[r"/character-media$"] = 500
    user = make_user(app)
    client.post(SYNC, json={}, headers=user_headers(app.settings, user))
    result = consumer.post("/functions/v1/queue-consumer", json={}, headers=service_headers).json
    assert result and result["processed"] == 2
    with db.connection() as conn:
        done = conn.execute("select * from characters where enriched_at is not null").fetchall()
    assert len(done) == 2 and all(c["avatar_url"] is None and c["guild_id"] for c in done)


def test_server_errors_retry_then_dead_letter(
    client: FlaskClient,
    consumer: FlaskClient,
    app: App,
    profiles: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    profiles.failures[r"^/profile/wow/character/"] = 503
    user = make_user(app)
    sid = client.post(SYNC, json={}, headers=user_headers(app.settings, user)).json["sessionId"]  # type: ignore[index]
    first = consumer.post("/functions/v1/queue-consumer", json={}, headers=service_headers).json
    assert first and first["retried"] == 3 and first["remaining"] == 3
    with db.connection() as conn:  # skip the backoff
        conn.execute("update pgmq.q_character_sync set vt = now()")
    second = consumer.post("/functions/v1/queue-consumer", json={}, headers=service_headers).json
    assert second == {
        "processed": 0,
        "failed": 0,
        "retried": 0,
        "deadLettered": 3,
        "paused": 0,
        "remaining": 0,
    }
    with db.connection() as conn:
        dead = conn.execute("select message from pgmq.a_character_sync").fetchall()
    assert len(dead) == 3 and all("503" in d["message"]["deadLetter"]["error"] for d in dead)
    state = app.repos.sessions.get_sync_state(sid, None)
    assert state and state["event"] == "sync-complete" and state["data"]["failedCharacters"] == 3


def test_second_sync_while_active_is_409(
    client: FlaskClient, app: App, profiles: FakeBattleNet
) -> None:
    headers = user_headers(app.settings, make_user(app))
    started = client.post(SYNC, json={}, headers=headers)
    assert started.status_code == 202 and started.json
    again = client.post("/functions/v1/fetch-profile", json={}, headers=headers)
    assert again.status_code == 409 and again.json
    assert again.json["error"]["code"] == "sync_already_running"
    assert again.json["error"]["sessionId"] == started.json["sessionId"]


def test_expired_token_is_409_and_marks_relogin(
    client: FlaskClient, app: App, profiles: FakeBattleNet, db: PsycopgDatabase
) -> None:
    user = make_user(app, hours=-1)
    response = client.post(SYNC, json={}, headers=user_headers(app.settings, user))
    assert response.status_code == 409 and response.json
    assert response.json["error"]["code"] == "relogin_required"
    with db.connection() as conn:
        assert conn.execute("select login_state from users").fetchone() == {
            "login_state": "relogin_required"
        }


def test_revoked_token_is_409(client: FlaskClient, app: App, profiles: FakeBattleNet) -> None:
    profiles.failures[r"^/profile/user/wow$"] = 401
    response = client.post(SYNC, json={}, headers=user_headers(app.settings, make_user(app)))
    assert response.status_code == 409 and response.json
    assert response.json["error"]["code"] == "relogin_required"
    assert "log in" in response.json["error"]["message"]


def test_no_characters_completes_at_once(
    client: FlaskClient, app: App, profiles: FakeBattleNet
) -> None:
    profiles.failures[r"^/profile/user/wow$"] = 404
    headers = user_headers(app.settings, make_user(app))
    body = client.post(SYNC, json={"gameVersion": "classic_era"}, headers=headers).json
    assert body and body["syncedCharacters"] == 0
    state = client.get(f"{SYNC}/{body['sessionId']}", headers=headers).json
    assert state == {
        "sessionId": body["sessionId"],
        "status": "completed",
        "totalCharacters": 0,
        "processedCharacters": 0,
        "failedCharacters": 0,
        "progressPercentage": 100,
    }
    account_call = next(r for r in profiles.requests if r.url.path == "/profile/user/wow")
    assert account_call.url.params["namespace"] == "profile-classic1x-us"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"gameVersion": "wotlk"}, "classic_progression"),
        ({"gameVersion": 5}, "gameVersion"),
    ],
)
def test_bad_game_version_is_400(
    client: FlaskClient, app: App, body: dict[str, Any], needle: str
) -> None:
    response = client.post(SYNC, json=body, headers=user_headers(app.settings, make_user(app)))
    assert (
        response.status_code == 400
        and response.json
        and needle in response.json["error"]["message"]
    )


def test_owner_only(client: FlaskClient, app: App, profiles: FakeBattleNet) -> None:
    owner = make_user(app)
    stranger = user_headers(app.settings, make_user(app, battlenet_id=7))
    body = client.post(SYNC, json={}, headers=user_headers(app.settings, owner)).json
    assert body
    assert client.get(f"{SYNC}/{body['sessionId']}", headers=stranger).status_code == 404
    assert client.get(f"{SYNC}/{body['sessionId']}/events", headers=stranger).status_code == 404
    char_id = body["characters"][0]["id"]
    assert client.post(f"/api/v1/characters/{char_id}/enrich", headers=stranger).status_code == 404
    mine = client.post(
        f"/api/v1/characters/{char_id}/enrich", headers=user_headers(app.settings, owner)
    )
    assert mine.status_code == 202 and mine.json
    assert mine.json["message"] == "Character enrichment queued"
    assert mine.json["character"] == {"id": char_id, "name": "Adaxion", "realm": "Area 52"}
    assert isinstance(mine.json["jobId"], int) and mine.json["sessionId"] != body["sessionId"]


def test_service_key_needs_user_id(
    client: FlaskClient, app: App, profiles: FakeBattleNet, service_headers: dict[str, str]
) -> None:
    assert client.post(SYNC, json={}, headers=service_headers).status_code == 400
    user = make_user(app)
    response = client.post(SYNC, json={"userId": user}, headers=service_headers)
    assert response.status_code == 202
    assert client.post(SYNC, json={}, headers={"Authorization": "Bearer x"}).status_code == 401
    assert client.get(f"{SYNC}/{uuid.uuid4()}", headers=service_headers).status_code == 404


def test_token_that_cannot_be_decrypted_fails_the_job(
    consumer: FlaskClient,
    app: App,
    profiles: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    user = make_user(app)
    with db.connection() as conn:
        conn.execute("update battlenet_tokens set ciphertext = 'v1.test-k1.garbage'")
        conn.execute(
            "select pgmq.send('character_sync', jsonb_build_object('type', "
            "'profile_sync', 'userId', %s::text, 'reason', 'login'))",
            (user,),
        )
    result = consumer.post("/functions/v1/queue-consumer", json={}, headers=service_headers).json
    assert result and result["deadLettered"] == 1 and result["remaining"] == 0
    with db.connection() as conn:
        dead = conn.execute("select message from pgmq.a_character_sync").fetchone()
        state = conn.execute("select login_state from users").fetchone()
    assert dead and "token_decryption_failed" in dead["message"]["deadLetter"]["error"]
    assert state == {"login_state": "relogin_required"}
    assert not any(r.url.path == "/profile/user/wow" for r in profiles.requests)


def test_operator_names_the_user_by_id_or_battlenet_id(
    client: FlaskClient,
    app: App,
    profiles: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    """Seed 000's operator calls: `fetch-profile?user_id=` or `?battlenet_id=`, query or body."""
    first, second, third = make_user(app, 11), make_user(app, 22), make_user(app, 33)
    calls = [
        ("/functions/v1/fetch-profile?battlenet_id=11", {}),
        (SYNC, {"user_id": second}),
        (f"/functions/v1/fetch-profile?user_id={third}", {"gameVersion": "retail"}),
    ]
    for path, body in calls:
        response = client.post(path, json=body, headers=service_headers)
        assert response.status_code == 202, response.json
    with db.connection() as conn:
        owners = conn.execute("select user_id::text from character_sync_sessions").fetchall()
    assert sorted(o["user_id"] for o in owners) == sorted([first, second, third])
    # the three share one sample account: its characters went to the last one synced
    listed = client.get("/api/v1/characters?battlenet_id=33", headers=service_headers)
    assert listed.status_code == 200 and listed.json and len(listed.json["characters"]) == 3
    listed = client.get(f"/api/v1/characters?user_id={first}", headers=service_headers)
    assert listed.status_code == 200 and listed.json == {"characters": [], "realmGroups": []}


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/functions/v1/fetch-profile?battlenet_id=404", {}, 404, "Battle.net account id 404"),
        (f"{SYNC}?user_id={uuid.UUID(int=1)}", {}, 404, "no user"),
        (SYNC, {"battlenet_id": 404}, 404, "Battle.net account id 404"),
        ("/api/v1/characters?user_id=" + str(uuid.UUID(int=1)), None, 404, "no user"),
        (f"{SYNC}?battlenet_id=11&user_id={uuid.UUID(int=1)}", {}, 400, "not both"),
        (SYNC, {"battlenet_id": "eleven"}, 400, "battlenet_id"),
        (f"{SYNC}?battlenet_id=0", {}, 400, "battlenet_id"),
        (f"{SYNC}?battlenet_id=99999999999999999999", {}, 400, "battlenet_id"),
        (f"{SYNC}?user_id=nope", {}, 400, "user_id"),
        (f"{SYNC}?battlenet_id=11", {"battlenet_id": 12}, 400, "different users"),
        (SYNC, {}, 400, "name the user"),
    ],
)
def test_operator_calls_answer_404_for_an_unknown_user_and_400_for_bad_input(
    client: FlaskClient,
    app: App,
    profiles: FakeBattleNet,
    service_headers: dict[str, str],
    path: str,
    body: dict[str, Any] | None,
    status: int,
    needle: str,
) -> None:
    make_user(app, 11)
    if body is None:
        response = client.get(path, headers=service_headers)
    else:
        response = client.post(path, json=body, headers=service_headers)
    assert response.status_code == status and response.json
    assert needle in response.json["error"]["message"]
    assert not any(r.url.path == "/profile/user/wow" for r in profiles.requests)


def test_a_user_token_acts_for_its_user_only(
    client: FlaskClient, app: App, profiles: FakeBattleNet
) -> None:
    me, other = make_user(app, 11), make_user(app, 22)
    headers = user_headers(app.settings, me)
    for path, body in [(SYNC, {"userId": other}), (f"{SYNC}?battlenet_id=22", {})]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 403 and response.json
    assert client.post(SYNC, json={"userId": me}, headers=headers).status_code == 202


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", SYNC, "POST"),
        ("PUT", "/functions/v1/fetch-profile", "POST"),
        ("POST", f"{SYNC}/{uuid.UUID(int=1)}", "GET, HEAD"),
        ("DELETE", "/api/v1/characters", "GET, HEAD"),
        ("GET", "/api/v1/characters/12/enrich", "POST"),
    ],
)
def test_wrong_method_is_405_with_allow(
    client: FlaskClient, app: App, method: str, path: str, allow: str
) -> None:
    response = client.open(path, method=method, headers=user_headers(app.settings, uuid.uuid4()))
    assert response.status_code == 405 and response.headers["Allow"] == allow
    assert response.json and response.json["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/characters/1234567890123456789/enrich",
        "/api/v1/characters/12a/enrich",
        "/api/v1/characters/sync/not-a-session",
        "/api/v1/characters/sync/" + "9" * 500 + "/events",
        "/api/v1/elsewhere",
    ],
)
def test_unbounded_ids_and_unknown_paths_are_404(client: FlaskClient, app: App, path: str) -> None:
    method = "POST" if path.endswith("enrich") else "GET"
    headers = user_headers(app.settings, uuid.uuid4())
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == 404 and response.json
    assert response.json["error"]["message"].startswith("no route")


def test_tokens_without_exp_hs256_or_signed_with_the_cli_secret_are_401(
    client: FlaskClient, app: App, profiles: FakeBattleNet
) -> None:
    """On the new keys (no JWT secret) no HS256 token verifies, the CLI's dev secret's least."""
    user = make_user(app)
    key = app.settings.auth.signing_key
    assert key is not None and app.settings.jwt_secret is None
    claims = {"role": "authenticated", "aud": "authenticated", "sub": user,
              "iss": app.settings.jwt_issuer}  # fmt: skip
    no_exp = jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})
    cli, _ = mint_user_token(uuid.UUID(user), DEV_JWT_SECRET, 3600)
    service = mint_service_key(DEV_JWT_SECRET)
    for token in (no_exp, cli, service):
        response = client.post(SYNC, json={}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    assert client.post(SYNC, json={}, headers=user_headers(app.settings, user)).status_code == 202


def test_foreign_issuers_and_unknown_users_are_401(
    client: FlaskClient, app: App, profiles: FakeBattleNet
) -> None:
    """Strict tokens: signed with the project's own key, but issued elsewhere or for a `sub`
    that is no user of the app."""
    user = make_user(app)
    key = app.settings.auth.signing_key
    assert key is not None

    def token(**claims: Any) -> dict[str, str]:
        now = int(datetime.now(UTC).timestamp())
        body = {"role": "authenticated", "aud": "authenticated", "sub": user, "iat": now,
                "exp": now + 60, "iss": app.settings.jwt_issuer, **claims}  # fmt: skip
        signed = jwt.encode(body, key.private_key, algorithm="ES256", headers={"kid": key.kid})
        return {"Authorization": f"Bearer {signed}"}

    for headers in (
        token(iss="https://other-project.supabase.co/auth/v1"),
        token(iss="supabase"),
        token(sub=str(uuid.uuid4())),
    ):
        response = client.get("/api/v1/characters", headers=headers)
        assert response.status_code == 401, response.json
        assert response.json and response.json["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/characters", headers=token()).status_code == 200
    for wrong in ("sb_publishable_" + "p" * 24, "sb_secret_" + "w" * 24):
        listed = client.get("/api/v1/characters", headers={"apikey": wrong})
        assert listed.status_code == 401


def test_the_legacy_secret_still_serves_a_project_that_has_not_migrated(
    client: FlaskClient, app: App, profiles: FakeBattleNet, db: PsycopgDatabase
) -> None:
    """SUPABASE_JWT_SECRET alone: HS256 sessions and the service-role JWT."""
    legacy = bootstrap(legacy_settings(database_url=db.dsn), db=db)
    previous = set_app(legacy)
    try:
        user = make_user(legacy, battlenet_id=4242)
        headers = user_headers(legacy.settings, user)
        assert jwt.get_unverified_header(headers["Authorization"][7:])["alg"] == "HS256"
        assert client.post(SYNC, json={}, headers=headers).status_code == 202
        service = service_headers_for(legacy.settings)
        assert "apikey" not in service
        operator = client.get(f"/api/v1/characters?user_id={user}", headers=service)
        assert operator.status_code == 200, operator.json
        new_keys = user_headers(app.settings, user)  # an ES256 session: no key to verify it
        assert client.get("/api/v1/characters", headers=new_keys).status_code == 401
    finally:
        legacy.blizzard.http.close()
        set_app(previous)
