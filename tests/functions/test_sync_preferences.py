"""GET/PUT /api/v1/me/sync-preferences through functions-framework's test client."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.bootstrap import App
from tests.functions.conftest import function_client, make_user, user_headers

PATH = "/api/v1/me/sync-preferences"


@pytest.fixture
def client() -> FlaskClient:
    return function_client("fetch_profile")


def test_defaults_then_an_update(client: FlaskClient, app: App) -> None:
    headers = user_headers(app.settings, make_user(app))
    first = client.get(PATH, headers=headers)
    assert first.status_code == 200
    assert first.get_json() == {
        "autoSync": "on_login",
        "gameVersions": ["retail"],
        "nextSyncAt": None,
        "reason": "on_login",
    }
    put = client.put(
        PATH, json={"autoSync": "daily", "gameVersions": ["Classic_Era", "retail"]}, headers=headers
    )
    assert put.status_code == 200, put.get_json()
    body = put.get_json()
    assert (body["autoSync"], body["gameVersions"]) == ("daily", ["classic_era", "retail"])
    assert body["nextSyncAt"] is not None and body["reason"] is None
    partial = client.put(PATH, json={"autoSync": "off"}, headers=headers).get_json()
    assert partial["gameVersions"] == ["classic_era", "retail"]
    assert (partial["nextSyncAt"], partial["reason"]) == (None, "auto_sync_off")
    assert client.get(PATH, headers=headers).get_json() == partial


@pytest.mark.parametrize(
    "body",
    [
        {"autoSync": "weekly"},
        {"gameVersions": []},
        {"gameVersions": ["wotlk"]},
        {"gameVersions": "retail"},
        {"autoSync": "off", "extra": 1},
        [],
    ],
)
def test_bad_input_is_400_and_changes_nothing(client: FlaskClient, app: App, body: Any) -> None:
    headers = user_headers(app.settings, make_user(app))
    answer = client.put(PATH, json=body, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "bad_request"
    assert client.get(PATH, headers=headers).get_json()["autoSync"] == "on_login"


def test_needs_a_token_and_an_empty_put_is_400(client: FlaskClient, app: App) -> None:
    assert client.get(PATH).status_code == 401
    headers = user_headers(app.settings, make_user(app))
    assert client.put(PATH, headers=headers).status_code == 400
    assert client.post(PATH, headers=headers).status_code == 405
