"""oauth_flow through functions-framework's test client (Battle.net faked with pytest-httpx)."""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from flask.testing import FlaskClient

from shared.bootstrap import App, bootstrap
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.instance import set_app
from tests.conftest import TEST_OAUTH, make_settings, said_to_client
from tests.functions.conftest import FakeBattleNet, function_client
from tests.integration.helpers import claim

LOGIN = "/functions/v1/oauth-flow/login"
CALLBACK = "/functions/v1/oauth-flow/callback"
COOKIE = "guild_sync_login"


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


def states(db: PsycopgDatabase) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return conn.execute("select * from oauth_states order by created_at").fetchall()


def users(db: PsycopgDatabase) -> int:
    with db.connection() as conn:
        row = conn.execute("select count(*) as n from users").fetchone()
    assert row
    return int(row["n"])


def test_login_redirects_with_state_and_pkce(
    client: FlaskClient, app: App, db: PsycopgDatabase
) -> None:
    params = begin(client)
    assert params["scope"] == "openid wow.profile" and params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256" and params["client_id"] == "test-client"
    [stored] = states(db)
    assert stored["state"] == params["state"]
    digest = hashlib.sha256(stored["code_verifier"].encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_login_binds_the_state_to_the_browser_with_a_cookie(
    client: FlaskClient, app: App, db: PsycopgDatabase
) -> None:
    response = client.get(LOGIN)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "Secure" not in cookie  # plain http locally
    assert all(flag in cookie for flag in ("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=600"))
    assert "Domain" not in cookie  # host-only
    assert response.headers["Cache-Control"] == "no-store"
    key = client.get_cookie(COOKIE)
    assert key and len(key.value) >= 40
    [stored] = states(db)
    assert stored["browser_hash"] == hashlib.sha256(key.value.encode()).hexdigest()
    assert key.value not in str(stored)  # only its hash is kept


def test_https_callback_uses_a_host_prefixed_secure_cookie(db: PsycopgDatabase) -> None:
    settings = make_settings(
        database_url=db.dsn,
        oauth_redirect_uri="https://api.example.com/functions/v1/oauth-flow/callback",
    )
    application = bootstrap(settings, db=db)
    previous = set_app(application)
    try:
        response = function_client("oauth_flow").get(LOGIN, base_url="https://api.example.com")
    finally:
        set_app(previous)
        application.blizzard.http.close()
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"__Host-{COOKIE}=")
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))
    assert "Domain" not in cookie


def test_callback_needs_the_cookie_of_the_browser_that_started_the_login(
    client: FlaskClient, app: App, oauth: FakeBattleNet, db: PsycopgDatabase
) -> None:
    state = begin(client, None)["state"]
    mine = client.get_cookie(COOKIE)
    assert mine
    stranger = function_client("oauth_flow")  # another browser: no cookie
    missing = stranger.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert missing.status_code == 400 and missing.json
    assert "login cookie is missing" in missing.json["error"]["message"]
    begin(stranger, None)  # its own login: its own cookie
    wrong = stranger.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert wrong.status_code == 400 and wrong.json
    assert "another browser" in wrong.json["error"]["message"]
    assert users(db) == 0 and not any(r.url.path.endswith("/token") for r in oauth.requests)
    done = client.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert done.status_code == 200 and users(db) == 1  # the state waited for its browser
    cleared = done.headers["Set-Cookie"]
    assert cleared.startswith(f"{COOKIE}=;") and "Max-Age=0" in cleared
    assert client.get_cookie(COOKIE) is None


def test_every_callback_answer_clears_the_cookie(
    client: FlaskClient, app: App, oauth: FakeBattleNet
) -> None:
    begin(client, None)
    response = client.get(CALLBACK, query_string={"state": "forged", "code": "x"})
    assert response.status_code == 400 and "Max-Age=0" in response.headers["Set-Cookie"]
    assert client.get_cookie(COOKIE) is None


def test_expired_states_are_refused_and_left_to_the_cron_job(
    client: FlaskClient, app: App, oauth: FakeBattleNet, db: PsycopgDatabase
) -> None:
    state = begin(client, None)["state"]
    with db.connection() as conn:
        conn.execute("update oauth_states set expires_at = now() - interval '1 second'")
    late = client.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert late.status_code == 400 and late.json and "expired" in late.json["error"]["message"]
    begin(client, None)
    assert len(states(db)) == 2  # nothing is cleaned on the request path
    with db.connection() as conn:
        pruned = conn.execute("select public.prune_oauth_states() as n").fetchone()
    assert pruned == {"n": 1}  # what pg_cron runs every minute
    assert len(states(db)) == 1


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("https://evil.example/steal", "not allowed"),
        ("javascript:alert(1)", "absolute"),
        ("/relative", "absolute"),
        ("http://localhost:3000/" + "a" * 2030, "2048 bytes"),
        ("http://localhost:3000/\r\nSet-Cookie: x=1", "control characters"),
        ("http://localhost:3000/a\tb", "control characters"),
        ("http://localhost:3000/\x00", "control characters"),
        ("http://localhost:3000/\x7f", "control characters"),
        ("http://localhost:3000/\u0085", "control characters"),
        ("http://[::1", "not a valid URL"),
        ("http://localhost:3000\uff03@evil.com", "not a valid URL"),
        ("http://localhost:99999/", "not a valid URL"),
        ("http://user:pw@localhost:3000/", "credentials"),
        ("http://localhost:3000/" + "a" * 512, "512 characters"),
        ("http://localhost:3000/?" + "q" * 511, "512 characters"),
    ],
)
def test_redirect_must_be_allowed(
    client: FlaskClient, app: App, target: str, needle: str, db: PsycopgDatabase
) -> None:
    response = client.get(LOGIN, query_string={"redirect_to": target})
    assert response.status_code == 400 and response.json
    assert needle in response.json["error"]["message"]
    assert "Set-Cookie" not in response.headers and states(db) == []


def test_a_long_redirect_within_the_cap_is_kept(
    client: FlaskClient, app: App, db: PsycopgDatabase
) -> None:
    target = "http://localhost:3000/" + "a" * 500 + "?n=1234567"  # path + query: 512
    begin(client, target)
    assert [s["redirect_to"] for s in states(db)] == [target]


def test_redirect_is_stored_as_origin_and_path(
    client: FlaskClient, app: App, db: PsycopgDatabase
) -> None:
    begin(client, "HTTP://LocalHost:3000/Done?x=1#fragment")
    begin(client, "http://localhost:3000")
    assert [s["redirect_to"] for s in states(db)] == [
        "http://localhost:3000/Done?x=1",
        "http://localhost:3000/",
    ]


def test_callback_redirects_with_session_and_stores_token_encrypted(
    client: FlaskClient, app: App, oauth: FakeBattleNet, db: PsycopgDatabase
) -> None:
    state = begin(client)["state"]
    response = client.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.netloc == "localhost:3000" and target.path == "/done"
    fragment = {k: v[0] for k, v in parse_qs(target.fragment).items()}
    caller = app.auth.caller(f"Bearer {fragment['access_token']}")
    assert caller.role == "authenticated" and str(caller.user_id) == fragment["user_id"]
    header = jwt.get_unverified_header(fragment["access_token"])
    assert (header["alg"], header["kid"]) == ("ES256", app.settings.auth.signing_key.kid)
    assert caller.claims["iss"] == app.settings.jwt_issuer
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
    assert token and token["key_id"] == "test-k1" and token["ciphertext"].startswith("v1.")
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
    assert response.headers["Cache-Control"] == "no-store"
    assert set(response.json) == {"user", "accessToken", "expiresAt"}
    assert response.json["user"]["battletag"] == "Zéphyr#1234"
    assert "user-secret-token" not in response.get_data(as_text=True)


def test_replayed_callback_is_400_and_creates_nothing_more(
    client: FlaskClient, app: App, oauth: FakeBattleNet, db: PsycopgDatabase
) -> None:
    state = begin(client, None)["state"]
    key = client.get_cookie(COOKIE)
    assert key
    assert (
        client.get(CALLBACK, query_string={"code": "good-code", "state": state}).status_code == 200
    )
    replay = client.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert replay.status_code == 400 and replay.json  # the cookie went with the first answer
    client.set_cookie(COOKIE, key.value)  # even with the cookie kept back: single use
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


def test_battlenet_down_during_exchange_is_502_with_an_error_id(
    client: FlaskClient,
    app: App,
    oauth: FakeBattleNet,
    db: PsycopgDatabase,
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = begin(client)["state"]
    oauth.failures[r"/token$"] = 503
    with caplog.at_level(logging.ERROR, logger="shared.http"):
        response = client.get(CALLBACK, query_string={"code": "good-code", "state": state})
    assert response.status_code == 502 and response.json
    error = response.json["error"]
    assert set(error) == {"code", "message", "id"} and len(error["id"]) == 32
    body = said_to_client(response.get_data(as_text=True))
    assert "503" not in body and "oauth.test.invalid" not in body and "token" not in body
    [line] = [r.getMessage() for r in caplog.records if error["id"] in r.getMessage()]
    assert "503" in line and "/token" in line  # the real detail, in the log only
    assert users(db) == 0


def test_login_and_callback_are_get_only(client: FlaskClient, app: App) -> None:
    for path in (LOGIN, CALLBACK):
        response = client.post(path)
        assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
    assert client.get("/functions/v1/oauth-flow/elsewhere").status_code == 404


def test_login_on_the_functions_own_url(client: FlaskClient, app: App) -> None:
    response = client.get(
        "/login"
    )  # https://<region>-<project>.cloudfunctions.net/oauth-flow/login
    assert response.status_code == 302 and response.headers["Set-Cookie"].startswith(COOKIE)
