"""The snapshot endpoints and the guild page through functions-framework's test client, on the
real Postgres: owner and guildmate read, a stranger gets 404, a bad kind 400."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.functions.conftest import function_client, make_user, user_headers
from tests.integration.helpers import char, sql, start

GUILD = {"blizzard_id": 77, "name": "Shared", "slug": "shared", "realm_id": 1,
         "realm_slug": "area-52", "realm_name": "Area 52"}  # fmt: skip
GEAR = {"items": [{"slot": "HEAD", "itemId": 1, "name": "Hood", "quality": "EPIC",
                   "itemLevel": 600, "enchantments": [], "gems": [], "set": None}]}  # fmt: skip


@pytest.fixture
def client() -> FlaskClient:
    return function_client("fetch_profile")


def character(app: App, user: str, blizzard_id: int, guild: bool) -> int:
    result = start(app.repos, user, [char(blizzard_id, f"C{blizzard_id}")])  # type: ignore[arg-type]
    cid = int(result["characters"][0]["id"])
    app.repos.sessions.start_character_item(result["sessionId"], cid)
    data = {"guild": GUILD} if guild else {}
    app.repos.sessions.record_character_result(result["sessionId"], cid, "completed", None, data)
    return cid


@pytest.fixture
def world(app: App) -> dict[str, Any]:
    owner, mate, stranger = make_user(app, 1), make_user(app, 2), make_user(app, 3)
    mine = character(app, owner, 11, guild=True)
    character(app, mate, 12, guild=True)
    character(app, stranger, 13, guild=False)
    entry = {"kind": "equipment", "profileModified": None, "content": GEAR, "itemLevel": 600}
    (snapshot,) = app.repos.snapshots.record_character_snapshots(mine, [entry])
    return {"owner": owner, "mate": mate, "stranger": stranger, "char": mine, "snap": snapshot}


def test_owner_and_guildmate_read_snapshots_a_stranger_gets_404(
    client: FlaskClient, app: App, world: dict[str, Any]
) -> None:
    url = f"/api/v1/characters/{world['char']}/snapshots"
    for who in ("owner", "mate"):
        headers = user_headers(app.settings, world[who])
        listed = client.get(url, query_string={"kind": "equipment"}, headers=headers)
        assert listed.status_code == 200, listed.json
        assert listed.json is not None
        assert listed.json["characterId"] == world["char"] and listed.json["kind"] == "equipment"
        assert [s["id"] for s in listed.json["snapshots"]] == [world["snap"]]
        assert listed.json["snapshots"][0]["itemLevel"] == 600
        whole = client.get(f"{url}/{world['snap']}", headers=headers)
        assert whole.status_code == 200 and whole.json is not None
        assert whole.json["items"] == GEAR["items"] and whole.json["kind"] == "equipment"
    headers = user_headers(app.settings, world["stranger"])
    for path in (url + "?kind=equipment", f"{url}/{world['snap']}"):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 404
        assert refused.json is not None and refused.json["error"]["code"] == "not_found"


def test_a_bad_kind_is_400_and_no_token_is_401(
    client: FlaskClient, app: App, world: dict[str, Any]
) -> None:
    url = f"/api/v1/characters/{world['char']}/snapshots"
    bad = client.get(
        url, query_string={"kind": "mounts"}, headers=user_headers(app.settings, world["owner"])
    )
    assert bad.status_code == 400 and bad.json is not None
    assert bad.json["error"]["code"] == "bad_request"
    missing = client.get(url, headers=user_headers(app.settings, world["owner"]))
    assert missing.status_code == 400
    assert client.get(url, query_string={"kind": "equipment"}).status_code == 401


def test_guild_page_for_members_only(client: FlaskClient, app: App, world: dict[str, Any]) -> None:
    assert isinstance(app.db, PsycopgDatabase)
    (row,) = sql(app.db, "select guild_id from characters where id = %s", world["char"])
    guild_id = row["guild_id"]
    url = f"/api/v1/guilds/{guild_id}"
    page = client.get(url, headers=user_headers(app.settings, world["mate"]))
    assert page.status_code == 200 and page.json is not None
    assert page.json["name"] == "Shared" and len(page.json["members"]) == 2
    assert client.get(url, headers=user_headers(app.settings, world["stranger"])).status_code == 404
