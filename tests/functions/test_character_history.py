"""GET /api/v1/characters (transfer links, realm groups) and GET /api/v1/characters/{id}/history
through functions-framework's test client, on the real Postgres."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.functions.conftest import function_client, make_user, user_headers
from tests.integration.helpers import char, sql, start


@pytest.fixture
def client() -> FlaskClient:
    return function_client("fetch_profile")


def two_syncs(app: App, db: PsycopgDatabase) -> tuple[str, dict[str, int]]:
    """A user whose warrior Thrall moved from area-52 to moon-guard (level 70 -> 71), beside a
    mage on a realm connected to area-52."""
    user = make_user(app)
    sql(
        db,
        "insert into wow_realms (region, flavor, id, slug, name, connected_realm_id) values "
        "('us', 'retail', 1, 'area-52', 'Area 52', 3676), "
        "('us', 'retail', 3, 'illidan', 'Illidan', 3676), "
        "('us', 'retail', 2, 'moon-guard', 'Moon Guard', 3675)",
    )
    mage = {**char(2, "Jaina", realm_id=3, slug="illidan"), "class_id": 8}
    start(app.repos, user, [char(1, "Thrall"), mage])
    sql(db, "update character_sync_sessions set status = 'completed'")
    moved = {**char(11, "Thrall", realm_id=2, slug="moon-guard"), "level": 71}
    start(app.repos, user, [moved, mage])
    ids = {
        f"{r['name']}@{r['realm_slug']}": r["id"]
        for r in sql(db, "select id, name, realm_slug from characters")
    }
    return user, ids


def test_list_carries_transfers_and_realm_groups(
    client: FlaskClient, app: App, db: PsycopgDatabase
) -> None:
    user, ids = two_syncs(app, db)
    old, new, mage = ids["Thrall@area-52"], ids["Thrall@moon-guard"], ids["Jaina@illidan"]
    response = client.get("/api/v1/characters", headers=user_headers(app.settings, user))
    assert response.status_code == 200
    body = response.get_json()
    rows = {c["id"]: c for c in body["characters"]}
    assert (rows[old]["transferredTo"], rows[old]["transferredFrom"]) == (new, None)
    assert (rows[new]["transferredTo"], rows[new]["transferredFrom"]) == (None, old)
    assert rows[mage]["transferredTo"] is None and rows[mage]["connectedRealmId"] == 3676
    groups = {g["connectedRealmId"]: g for g in body["realmGroups"]}
    assert sorted(groups[3676]["characterIds"]) == sorted([old, mage])
    assert groups[3676]["realms"] == ["Area 52", "Illidan"]
    assert groups[3675] == {
        "connectedRealmId": 3675,
        "region": "us",
        "flavor": "retail",
        "realms": ["Moon Guard"],
        "characterIds": [new],
    }


def test_history_answers_the_owner_newest_first(
    client: FlaskClient, app: App, db: PsycopgDatabase
) -> None:
    user, ids = two_syncs(app, db)
    old, new = ids["Thrall@area-52"], ids["Thrall@moon-guard"]
    headers = user_headers(app.settings, user)
    response = client.get(f"/api/v1/characters/{new}/history", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["characterId"] == new
    [transfer] = body["changes"]
    assert {k: transfer[k] for k in ("field", "from", "to", "source")} == {
        "field": "transfer", "from": old, "to": new, "source": "sync"
    }  # fmt: skip
    older = client.get(f"/api/v1/characters/{old}/history?limit=1", headers=headers)
    assert [c["field"] for c in older.get_json()["changes"]] == ["transfer"]
    later = client.get(
        f"/api/v1/characters/{old}/history?since=2999-01-01T00:00:00Z", headers=headers
    )
    assert later.get_json()["changes"] == []


def test_history_404_for_a_stranger_and_400_for_bad_input(
    client: FlaskClient, app: App, db: PsycopgDatabase
) -> None:
    user, ids = two_syncs(app, db)
    stranger = make_user(app, battlenet_id=99)
    old = ids["Thrall@area-52"]
    path = f"/api/v1/characters/{old}/history"
    answer = client.get(path, headers=user_headers(app.settings, stranger))
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"
    headers = user_headers(app.settings, user)
    for query in ("limit=0", "limit=501", "limit=x", "since=yesterday", "since=2026-13-01"):
        bad: Any = client.get(f"{path}?{query}", headers=headers)
        assert bad.status_code == 400, query
        assert bad.get_json()["error"]["code"] == "bad_request"
    assert client.get(f"{path}?limit=500", headers=headers).status_code == 200
    assert client.get(path).status_code == 401
