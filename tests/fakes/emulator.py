"""The local Battle.net emulator (devtools.emulator) driven through Flask's test client: the
helpers its unit tests share (each test file makes its own `client` fixture with
`emulator_client`)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from devtools.emulator import EmulatorConfig, State, create_app

CONFIG = EmulatorConfig(client_id="test-id", client_secret="test-secret")
REDIRECT = "http://127.0.0.1:54321/functions/v1/oauth-flow/callback"
VERIFIER = "a-verifier-of-at-least-43-characters-0123456789"
NOT_FOUND = {"code": 404, "type": "BLZWEBAPI00000404", "detail": "Not Found"}
UNAUTHORIZED = {"code": 401, "type": "BLZWEBAPI00000401", "detail": "Unauthorized"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.25

    def __call__(self) -> float:
        return self.now


def emulator_client(clock: FakeClock, sleeps: list[float]) -> FlaskClient:
    """A test client of an emulator on a fake clock that records its sleeps."""
    state = State(CONFIG, clock=clock, sleep=sleeps.append)
    return create_app(state=state).test_client()


def js(response: TestResponse) -> Any:
    """The JSON body (Any, so tests can index it freely)."""
    assert response.is_json, response.data
    return response.json


def basic(user: str = "test-id", password: str = "test-secret") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def client_credentials(client: FlaskClient, **headers: str) -> TestResponse:
    return client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=headers)


def app_token(client: FlaskClient) -> str:
    return str(js(client_credentials(client, **basic()))["access_token"])


def authorize(client: FlaskClient, user: int, **extra: str) -> TestResponse:
    query = {
        "response_type": "code",
        "client_id": "test-id",
        "redirect_uri": REDIRECT,
        "scope": "openid wow.profile",
        "state": "st-1",
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
        "user": str(user),
        **extra,
    }
    return client.get("/oauth/authorize", query_string=query)


def exchange(client: FlaskClient, code: str, verifier: str = VERIFIER) -> TestResponse:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    return client.post("/oauth/token", data=form, headers=basic())


def code_of(response: TestResponse) -> str:
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def user_token(client: FlaskClient, user: int) -> str:
    return str(js(exchange(client, code_of(authorize(client, user))))["access_token"])


def api(
    client: FlaskClient, path: str, token: str, ns: str | None, **params: str | int
) -> TestResponse:
    """GET an API path with a bearer token; `header_*` params become headers."""
    headers = {"Authorization": f"Bearer {token}"}
    query: dict[str, str | int] = {"namespace": ns, "locale": "en_US"} if ns else {}
    for key, value in params.items():
        if key.startswith("header_"):
            headers[key.removeprefix("header_").replace("_", "-")] = str(value)
        else:
            query[key] = value
    return client.get(path, query_string=query, headers=headers)


def account(client: FlaskClient, n: int) -> dict[str, Any]:
    return dict(js(client.get(f"/_emulator/accounts/{n}")))


def char_path(realm: str, name: str, suffix: str = "") -> str:
    return f"/profile/wow/character/{quote(realm)}/{quote(name.lower())}{suffix}"
