"""oauth_flow through functions-framework's test client (Battle.net faked with pytest-httpx)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flask.testing import FlaskClient

from shared.auth import verify
from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.conftest import TEST_OAUTH
from tests.functions.conftest import FakeBattleNet, function_client
from tests.integration.helpers import claim

LOGIN = "/functions/v1/oauth-flow/login"
CALLBACK = "/functions/v1/oauth-flow/callback"


@pytest.fixture
def client() -> FlaskClient:
    return function_client("oauth_flow")


@pytest.fixture
def oauth(battlenet: FakeBattleNet) -> FakeBattleNet:
    def token(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        if form["grant_type"] == ["client_credentials"]:
            return httpx.Response(200, json={"access_token": "app", "expires_in": 86399})
        if form["code"] != ["good-code"]:
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(
            200,
            json={
                "access_token": "user-secret-token",
                "expires_in": 86399,
                "scope": "openid wow.profile",
                "sub": "424242",
            },
        )

    battlenet.route(r"/token$", token)
    battlenet.route(
        r"/userinfo$",
        lambda r: httpx.Response(
            200, json={"sub": "424242", "id": 424242, "battletag": "Zéphyr#1234"}
        ),
    )
    return battlenet


def begin(
    client: FlaskClient, redirect_to: str | None = "http://localhost:3000/done"
) -> dict[str, Any]:
    query = {"redirect_to": redirect_to} if redirect_to else {}
    response = client.get(LOGIN, query_string=query)
    assert response.status_code == 302, response.json
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{TEST_OAUTH}/authorize"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_login_redirects_with_state_and_pkce(
    client: FlaskClient, app: App, db: PsycopgDatabase
) -> None:
    params = begin(client)
    assert params["scope"] == "openid wow.profile" and params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256" and params["client_id"] == "test-client"
    with db.connection() as conn:
        stored = conn.execute("select * from oauth_states").fetchone()
    assert stored and stored["state"] == params["state"]
    digest = hashlib.sha256(stored["code_verifier"].encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")


@pytest.mark.parametrize(
    "target", ["https://evil.example/steal", "javascript:alert(1)", "/relative"]
)
def test_redirect_must_be_allowed(
    client: FlaskClient, app: App, target: str, db: PsycopgDatabase
) -> None:
    response = client.get(LOGIN, query_string={"redirect_to": target})
    assert response.status_code == 400 and response.json
    with db.connection() as conn:
        assert conn.execute("select count(*) as n from oauth_states").fetchone() == {"n": 0}


def test_callback_redirects_with_session_and_stores_token_encrypted(
    client: FlaskClient, app: App, oauth: FakeBattleNet, db: PsycopgDatabase
) -> None:
    state = begin(client)["state"]
    response = client.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.netloc == "localhost:3000" and target.path == "/done"
    fragment = {k: v[0] for k, v in parse_qs(target.fragment).items()}
    caller = verify(fragment["access_token"], app.settings.supabase_jwt_secret.get_secret_value())
    assert caller.role == "authenticated" and str(caller.user_id) == fragment["user_id"]
    token_request = next(r for r in oauth.requests if r.url.path.endswith("/token"))
    assert b"code_verifier=" in token_request.content
    with db.connection() as conn:
        user = conn.execute("select * from users").fetchone()
        token = conn.execute("select * from battlenet_tokens").fetchone()
        dump = conn.execute(
            "select (select json_agg(t)::text from battlenet_tokens t) || "
            "(select json_agg(u)::text from users u) as d"
        ).fetchone()
    assert user and user["battlenet_id"] == 424242 and user["battletag"] == "Zéphyr#1234"
    assert token and token["key_id"] == "local-dev" and token["ciphertext"].startswith("v1.")
    assert dump and "user-secret-token" not in dump["d"]
    assert app.cipher.decrypt(token["ciphertext"], "424242") == "user-secret-token"
    queued = claim(db, "character_sync", 5)
    assert [m.message["type"] for m in queued] == ["profile_sync"]


def test_callback_without_redirect_answers_json(
    client: FlaskClient, app: App, oauth: FakeBattleNet
) -> None:
    state = begin(client, None)["state"]
    response = client.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert response.status_code == 200 and response.json
    assert set(response.json) == {"user", "accessToken", "expiresAt"}
    assert response.json["user"]["battletag"] == "Zéphyr#1234"
    assert "user-secret-token" not in response.get_data(as_text=True)


def test_replayed_callback_is_400_and_creates_nothing_more(
    client: FlaskClient, app: App, oauth: FakeBattleNet, db: PsycopgDatabase
) -> None:
    state = begin(client, None)["state"]
    assert (
        client.get(CALLBACK, query_string={"code": "good-code", "state": state}).status_code == 200
    )
    replay = client.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert replay.status_code == 400 and replay.json
    assert "already used" in replay.json["error"]["message"]
    with db.connection() as conn:
        assert conn.execute("select count(*) as n from users").fetchone() == {"n": 1}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"code": "good-code", "state": "forged"}, 400),
        ({"code": "bad-code"}, 400),
        ({"error": "access_denied"}, 400),
        ({}, 400),
    ],
)
def test_bad_callbacks_create_nothing(
    client: FlaskClient,
    app: App,
    oauth: FakeBattleNet,
    db: PsycopgDatabase,
    query: dict[str, str],
    status: int,
) -> None:
    if "state" not in query and query:
        query = {**query, "state": begin(client)["state"]}
    response = client.get(CALLBACK, query_string=query)
    assert response.status_code == status and response.json
    with db.connection() as conn:
        assert conn.execute("select count(*) as n from users").fetchone() == {"n": 0}


def test_battlenet_down_during_exchange_is_502(
    client: FlaskClient, app: App, oauth: FakeBattleNet, db: PsycopgDatabase
) -> None:
    state = begin(client)["state"]
    oauth.failures[r"/token$"] = 503
    response = client.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert response.status_code == 502
    with db.connection() as conn:
        assert conn.execute("select count(*) as n from users").fetchone() == {"n": 0}
