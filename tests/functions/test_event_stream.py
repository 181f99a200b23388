"""GET /api/v1/characters/sync/{id}/events through the handler, on the real Postgres: ids on
every event, Last-Event-ID resume without loss or repeat, a bad header answered 400."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.functions.conftest import (
    FakeBattleNet,
    first_event,
    function_client,
    make_user,
    parse,
    sample_json,
    user_headers,
)

SYNC = "/api/v1/characters/sync"


@pytest.fixture
def client() -> FlaskClient:
    return function_client("fetch_profile")


@pytest.fixture
def profiles(battlenet: FakeBattleNet) -> FakeBattleNet:
    """The sample account (three characters), each profile and media answered."""
    account = sample_json("account_profile_summary_2.json")
    profile = sample_json("character_profile_summary.json")
    media = sample_json("character_media.json")
    battlenet.route(r"^/profile/user/wow$", lambda r: httpx.Response(200, json=account))
    battlenet.route(
        r"^/profile/wow/character/[^/]+/[^/]+$", lambda r: httpx.Response(200, json=profile)
    )
    battlenet.route(r"/character-media$", lambda r: httpx.Response(200, json=media))
    return battlenet


def read_events(client: FlaskClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    return parse(response.get_data(as_text=True))


def test_resume_with_last_event_id_loses_and_repeats_nothing(
    client: FlaskClient,
    consumer: FlaskClient,
    app: App,
    profiles: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    headers = user_headers(app.settings, make_user(app))
    sid = client.post(SYNC, json={"gameVersion": "retail"}, headers=headers).json["sessionId"]
    url = f"{SYNC}/{sid}/events"
    opening = first_event(client, url, headers)  # nothing processed yet: the state
    consumer.post("/functions/v1/queue-consumer", json={"maxMessages": 10}, headers=service_headers)
    full = read_events(client, url, {**headers, "Last-Event-ID": opening["id"]})
    with db.connection() as conn:
        recorded = conn.execute(
            "select id, event from sync_events where session_id = %s order by id", (sid,)
        ).fetchall()
    assert opening["event"] == "sync-progress" and opening["id"] == "0"
    assert opening["data"]["processedCharacters"] == 0
    assert [(int(e["id"]), e["event"]) for e in full] == [(r["id"], r["event"]) for r in recorded]
    assert full[-1]["event"] == "sync-complete"
    # resuming from the middle gives exactly the rest
    middle = full[2]["id"]
    rest = read_events(client, url, {**headers, "Last-Event-ID": middle})
    assert rest == full[3:]
    # resuming after the end: the end once more, so the client stops
    again = read_events(client, url, {**headers, "Last-Event-ID": full[-1]["id"]})
    assert [(e["id"], e["event"]) for e in again] == [(full[-1]["id"], "sync-complete")]
    # without the header: the final state alone, with the last id
    late = read_events(client, url, headers)
    assert [(e["id"], e["event"]) for e in late] == [(full[-1]["id"], "sync-complete")]


def test_bad_last_event_id_is_400(
    client: FlaskClient,
    app: App,
    profiles: FakeBattleNet,
) -> None:
    headers = user_headers(app.settings, make_user(app))
    sid = client.post(SYNC, json={"gameVersion": "retail"}, headers=headers).json["sessionId"]
    response = client.get(f"{SYNC}/{sid}/events", headers={**headers, "Last-Event-ID": "x1"})
    assert response.status_code == 400
    assert response.json and response.json["error"]["code"] == "bad_request"
    assert "Last-Event-ID" in response.json["error"]["message"]
