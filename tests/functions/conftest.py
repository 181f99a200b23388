"""Handler tests: each function through functions-framework's test client, with the real
Postgres and Battle.net faked at the HTTP boundary (pytest-httpx)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import functions_framework
import httpx
import pytest
from flask.testing import FlaskClient
from pytest_httpx import HTTPXMock

from shared.auth import mint_service_key, mint_session
from shared.bootstrap import App, bootstrap
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.instance import set_app
from shared.settings import Settings
from tests.conftest import SAMPLES, TEST_API, TEST_OAUTH, make_settings

ROOT = Path(__file__).resolve().parents[2]


def function_client(target: str) -> FlaskClient:
    source = ROOT / "functions" / target / "main.py"
    return functions_framework.create_app(target=target, source=str(source)).test_client()


@pytest.fixture
def consumer() -> FlaskClient:
    """The queue-consumer function (what drains the queues in handler tests)."""
    return function_client("queue_consumer")


def running_app(db: PsycopgDatabase, **overrides: Any) -> Iterator[App]:
    """The process's app for a test, on production-like settings with `overrides`."""
    application = bootstrap(make_settings(database_url=db.dsn, **overrides), db=db)
    previous = set_app(application)
    try:
        yield application
    finally:
        application.blizzard.http.close()
        set_app(previous)


@pytest.fixture
def app(db: PsycopgDatabase) -> Iterator[App]:
    yield from running_app(db)


@pytest.fixture
def service_headers(app: App) -> dict[str, str]:
    return service_headers_for(app.settings)


def service_headers_for(settings: Settings) -> dict[str, str]:
    """A service credential: the first secret key, else (legacy) a service-role JWT."""
    if settings.secret_keys:
        return {"apikey": settings.secret_keys[0]}
    assert settings.jwt_secret
    return {"Authorization": f"Bearer {mint_service_key(settings.jwt_secret)}"}


def user_headers(settings: Settings, user_id: Any) -> dict[str, str]:
    """A session as the functions mint it after a login (signing key, else legacy secret)."""
    token, _ = mint_session(settings.auth, uuid.UUID(str(user_id)), 3600)
    return {"Authorization": f"Bearer {token}"}


def sample_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return data


def make_user(app: App, battlenet_id: int = 2056856, hours: int = 24) -> str:
    sealed = app.cipher.encrypt("user-token", associated=str(battlenet_id))
    user = app.repos.users.upsert_login(
        battlenet_id=battlenet_id,
        battletag="Tester#1",
        region="us",
        ciphertext=sealed.ciphertext,
        key_id=sealed.key_id,
        expires_at=(datetime.now(UTC) + timedelta(hours=hours)).isoformat(),
        scopes=["openid", "wow.profile"],
        sync_queue=None,
    )
    return str(user.id)


class FakeBattleNet:
    """Routes faked Battle.net requests by path; records them; can fail a path on demand."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.failures: dict[str, int] = {}  # path regex -> status
        self.routes: list[tuple[re.Pattern[str], Callable[[httpx.Request], httpx.Response]]] = []
        self.route(
            r"/token$",
            lambda r: httpx.Response(
                200, json={"access_token": "app-token", "token_type": "bearer", "expires_in": 86399}
            ),
        )
        classes = sample_json("playable_class_index.json")
        races = sample_json("playable_race_index.json")
        race = sample_json("playable_race_detail.json")
        realm = sample_json("connected_realm_detail.json")
        self.route(r"/data/wow/playable-class/index$", lambda r: httpx.Response(200, json=classes))
        self.route(r"/data/wow/playable-race/index$", lambda r: httpx.Response(200, json=races))
        self.route(
            r"/data/wow/playable-race/(\d+)$",
            lambda r: httpx.Response(200, json={**race, "id": int(r.url.path.rsplit("/", 1)[1])}),
        )
        self.route(
            r"/data/wow/search/connected-realm$",
            lambda r: httpx.Response(
                200,
                json={
                    "page": 1,
                    "pageSize": 1000,
                    "maxPageSize": 1000,
                    "pageCount": 1,
                    "results": [{"key": {"href": "x"}, "data": realm}],
                },
            ),
        )

    def route(self, pattern: str, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.routes.insert(0, (re.compile(pattern), respond))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for pattern, status in self.failures.items():
            if re.search(pattern, request.url.path):
                return httpx.Response(status, json={"code": status, "detail": "fault"})
        for pattern, respond in self.routes:
            if pattern.search(request.url.path):
                return respond(request)
        return httpx.Response(
            404, json={"code": 404, "type": "BLZWEBAPI00000404", "detail": "Not Found"}
        )


@pytest.fixture
def battlenet(httpx_mock: HTTPXMock) -> FakeBattleNet:
    fake = FakeBattleNet()
    httpx_mock.add_callback(fake, is_reusable=True, is_optional=True)
    return fake


__all__ = ["TEST_API", "TEST_OAUTH", "function_client", "user_headers"]


def parse(text: str) -> list[dict[str, Any]]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if fields:
            out.append({**fields, "data": json.loads(fields["data"])})
    return out


def first_event(client: FlaskClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    """The opening event of a stream that stays open: read one chunk, then hang up."""
    response = client.get(url, headers=headers, buffered=False)
    assert response.status_code == 200
    try:
        chunk = next(iter(response.response))
    finally:
        response.close()
    text = chunk.decode() if isinstance(chunk, bytes) else chunk
    return parse(text)[0]
