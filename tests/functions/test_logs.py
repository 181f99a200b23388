"""Production logs: every line a request writes is one JSON object on stdout with severity,
message, the request's trace, function, route and user, the error id of a 5xx, and each
Battle.net call's status and latency; no token or secret in any of them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.logs import SPAN_FIELD, TRACE_FIELD, configure_logging, trace_fields
from tests.conftest import TEST_JWT_SECRET, TEST_TOKEN_KEY, make_settings
from tests.functions.conftest import (
    FakeBattleNet,
    function_client,
    make_user,
    running_app,
    user_headers,
)

PROJECT = "guild-proj"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SYNC = "/api/v1/characters/sync"


@pytest.fixture
def app(db: PsycopgDatabase) -> Iterator[App]:
    yield from running_app(db, google_cloud_project=PROJECT)


@pytest.fixture
def profile_client(app: App) -> FlaskClient:
    return function_client("fetch_profile")


@pytest.fixture
def oauth_client(app: App) -> FlaskClient:
    return function_client("oauth_flow")


@pytest.fixture
def json_logs() -> Iterator[None]:
    """JSON logs, as in production (after the clients: loading a function configures logs
    from the environment)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("json")
    yield
    configure_logging("text")
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def lines_of(out: str) -> list[dict[str, Any]]:
    """Every line parses as one JSON object with severity and message."""
    entries = []
    for line in out.splitlines():
        entry = json.loads(line)
        assert isinstance(entry, dict)
        assert entry["severity"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        assert isinstance(entry["message"], str) and entry["message"]
        entries.append(entry)
    return entries


def secrets_of(app: App, *more: str) -> list[str]:
    return [
        TEST_JWT_SECRET,
        TEST_TOKEN_KEY.split(":", 1)[1],
        app.settings.client_secret,
        "app-token",  # the faked Battle.net app token
        "user-token",  # the user's Battle.net token (make_user)
        *more,
    ]


def test_a_request_writes_json_lines_with_its_trace_user_and_battlenet_calls(
    app: App,
    battlenet: FakeBattleNet,
    profile_client: FlaskClient,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = profile_client
    user = make_user(app)
    headers = {**user_headers(app.settings, user), "X-Cloud-Trace-Context": f"{TRACE}/17;o=1"}
    capsys.readouterr()
    response = client.post(SYNC, json={"gameVersion": "retail"}, headers=headers)
    assert response.status_code == 202, response.get_data()
    out = capsys.readouterr().out
    entries = lines_of(out)
    assert len(entries) >= 2
    for entry in entries:
        assert entry[TRACE_FIELD] == f"projects/{PROJECT}/traces/{TRACE}"
        assert entry[SPAN_FIELD] == f"{17:016x}"
        assert entry["function"] == "fetch_profile"
    calls = [e for e in entries if e.get("upstream") == "battlenet"]
    assert calls and all(isinstance(c["latencyMs"], float) for c in calls)
    assert any(c["status"] == 404 and c["url"].endswith("/profile/user/wow") for c in calls)
    assert all("?" not in c["url"] for c in calls)
    access = entries[-1]
    assert access["status"] == 202 and access["route"] == "POST /api/v1/characters/sync"
    assert access["userId"] == user and access["role"] == "authenticated"
    token = headers["Authorization"].split()[1]
    for secret in secrets_of(app, token):
        assert secret not in out


def test_a_5xx_line_carries_the_error_id_the_caller_sees(
    app: App,
    battlenet: FakeBattleNet,
    profile_client: FlaskClient,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = profile_client
    user = make_user(app)
    battlenet.failures[r"^/profile/user/wow$"] = 500
    headers = {
        **user_headers(app.settings, user),
        "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01",
    }
    capsys.readouterr()
    response = client.post(SYNC, json={}, headers=headers)
    assert response.status_code >= 500
    error_id = json.loads(response.get_data())["error"]["id"]
    out = capsys.readouterr().out
    entries = lines_of(out)
    errors = [e for e in entries if e["severity"] == "ERROR"]
    assert errors and all(e["errorId"] == error_id for e in errors)
    assert entries[-1]["errorId"] == error_id and entries[-1]["status"] == response.status_code
    assert all(e[TRACE_FIELD] == f"projects/{PROJECT}/traces/{TRACE}" for e in entries)
    assert all(e[SPAN_FIELD] == "00f067aa0ba902b7" for e in entries)
    assert any(e.get("upstream") == "battlenet" and e["status"] == 500 for e in entries)
    for secret in secrets_of(app, headers["Authorization"].split()[1]):
        assert secret not in out


def test_a_login_callback_never_logs_its_code_or_state(
    app: App,
    battlenet: FakeBattleNet,
    oauth_client: FlaskClient,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = oauth_client
    capsys.readouterr()
    client.get(
        "/functions/v1/oauth-flow/callback?code=the-secret-code&state=the-secret-state-0123456789"
    )
    entries = lines_of(out := capsys.readouterr().out)
    assert entries and entries[-1]["status"] == 400 and TRACE_FIELD not in entries[-1]
    assert "the-secret-code" not in out and "the-secret-state" not in out


@pytest.mark.parametrize(
    ("cloud", "parent", "project", "expected"),
    [
        (f"{TRACE}/1;o=1", None, "p", {TRACE_FIELD: f"projects/p/traces/{TRACE}"}),
        (f"{TRACE.upper()}", None, "p", {TRACE_FIELD: f"projects/p/traces/{TRACE}"}),
        (None, f"00-{TRACE}-00f067aa0ba902b7-00", "p", {SPAN_FIELD: "00f067aa0ba902b7"}),
        (f"{TRACE}/1", None, None, {"traceId": TRACE}),
        ("junk/1;o=1", None, "p", {}),
        ("0" * 32 + "/1", None, "p", {}),
        (f"{TRACE}/{'9' * 30}", None, "p", {TRACE_FIELD: f"projects/p/traces/{TRACE}"}),
        (None, "00-xyz-00f067aa0ba902b7-01", "p", {}),
        (None, None, "p", {}),
    ],
)
def test_trace_headers(
    cloud: str | None, parent: str | None, project: str | None, expected: dict[str, str]
) -> None:
    found = trace_fields(cloud, parent, project)
    assert expected.items() <= found.items()
    assert bool(found) == bool(expected)


def test_json_in_production_text_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_settings().logs_as_json  # a client id: production
    assert not make_settings(log_format="text").logs_as_json
    assert not make_settings(blizzard_client_id=None, k_service=None).logs_as_json
    assert make_settings(blizzard_client_id=None, log_format="json").logs_as_json
