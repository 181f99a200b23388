"""sync_static_data through functions-framework's test client on the real Postgres."""

from __future__ import annotations

import httpx
import pytest
from flask.testing import FlaskClient

from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.errors import BlizzardError
from tests.conftest import said_to_client
from tests.functions.conftest import (
    FakeBattleNet,
    function_client,
    make_user,
    sample_json,
    user_headers,
)

PATH = "/functions/v1/sync-static-data"


@pytest.fixture
def client() -> FlaskClient:
    return function_client("sync_static_data")


def table_counts(db: PsycopgDatabase) -> tuple[int, int, int]:
    with db.connection() as conn:
        row = conn.execute(
            "select (select count(*) from wow_classes) c, (select count(*) from wow_races) r, "
            "(select count(*) from wow_realms) m"
        ).fetchone()
    assert row is not None
    return (row["c"], row["r"], row["m"])


def test_sync_writes_counts_and_is_idempotent(
    client: FlaskClient,
    app: App,
    battlenet: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    response = client.post(
        PATH, json={"regions": ["us"], "gameVersions": ["retail"]}, headers=service_headers
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body is not None
    counts = body["counts"]["us"]["retail"]
    assert (counts["classes"], counts["races"], counts["realms"]) == (12, 25, 1)
    assert counts["changes"]["races"] == {"inserted": 25, "updated": 0}
    # 1 token + class index + race index + 25 race details + 1 search page
    assert body["requests"] == 29
    assert table_counts(db) == (12, 25, 1)
    with db.connection() as conn:
        realm = conn.execute("select * from wow_realms").fetchone()
    assert realm is not None
    assert (
        realm["slug"],
        realm["region"],
        realm["flavor"],
        realm["connected_realm_id"],
        realm["timezone"],
        realm["type"],
        realm["locale"],
        realm["category"],
    ) == (
        "tichondrius",
        "us",
        "retail",
        11,
        "America/Los_Angeles",
        "NORMAL",
        "enUS",
        "United States",
    )
    again = client.post(PATH, json={"regions": ["us"]}, headers=service_headers).json
    assert again is not None
    assert again["counts"]["us"]["retail"]["changes"]["realms"] == {"inserted": 0, "updated": 0}


def test_classic_uses_its_namespaces(
    client: FlaskClient, app: App, battlenet: FakeBattleNet, service_headers: dict[str, str]
) -> None:
    response = client.post(
        PATH, json={"regions": ["eu"], "gameVersions": ["classic_era"]}, headers=service_headers
    )
    assert response.status_code == 200
    namespaces = {r.url.params.get("namespace") for r in battlenet.requests if r.method == "GET"}
    assert namespaces == {"static-classic1x-eu", "dynamic-classic1x-eu"}


def test_battlenet_failure_is_502_and_writes_nothing(
    client: FlaskClient,
    app: App,
    battlenet: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    assert client.post(PATH, json={}, headers=service_headers).status_code == 200
    before = table_counts(db)
    with db.connection() as conn:
        conn.execute("update wow_classes set name = 'Old' where id = 1")
    battlenet.failures[r"/search/connected-realm"] = 503
    response = client.post(PATH, json={}, headers=service_headers)
    assert response.status_code == 502
    assert response.json and response.json["error"]["code"] == "blizzard_server_error"
    assert response.json["error"]["message"] == BlizzardError.public_message
    assert response.json["error"]["id"]
    assert "503" not in said_to_client(response.get_data(as_text=True))
    assert table_counts(db) == before
    with db.connection() as conn:
        assert conn.execute("select name from wow_classes where id = 1").fetchone() == {
            "name": "Old"
        }


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"regions": ["mars"]}, "us, eu, kr, tw, cn"),
        ({"gameVersions": ["wotlk"]}, "classic_anniversary"),
        ({"regions": "us"}, "regions"),
        ({"regions": []}, "regions"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_input_is_400(
    client: FlaskClient,
    app: App,
    service_headers: dict[str, str],
    body: object,
    needle: str,
    db: PsycopgDatabase,
) -> None:
    response = client.post(PATH, json=body, headers=service_headers)
    assert response.status_code == 400
    assert response.json and needle in response.json["error"]["message"]
    assert table_counts(db) == (0, 0, 0)


def test_bad_json_is_400(client: FlaskClient, app: App, service_headers: dict[str, str]) -> None:
    response = client.post(
        PATH, data="{nope", headers={**service_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json
    assert response.json["error"]["code"] == "bad_request"


def test_auth(client: FlaskClient, app: App) -> None:
    assert client.post(PATH, json={}).status_code == 401
    wrong = {"Authorization": "Bearer not-a-jwt"}
    assert client.post(PATH, json={}, headers=wrong).status_code == 401
    user = user_headers(app.settings, make_user(app))
    response = client.post(PATH, json={}, headers=user)
    assert response.status_code == 401 and response.json
    assert response.json["error"] == {
        "code": "unauthorized",
        "message": "this function needs the service-role key",
    }


@pytest.mark.parametrize("status", [404, 400])
def test_without_search_endpoint_reads_connected_realms_one_by_one(
    client: FlaskClient,
    app: App,
    battlenet: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
    status: int,
) -> None:
    index = sample_json("connected_realm_index.json")
    detail = sample_json("connected_realm_detail.json")
    battlenet.failures[r"/search/connected-realm$"] = status
    battlenet.route(r"/connected-realm/index$", lambda r: httpx.Response(200, json=index))

    def one(request: httpx.Request) -> httpx.Response:
        cid = int(request.url.path.rsplit("/", 1)[1])
        realm = {**detail["realms"][0], "id": cid * 10, "slug": f"realm-{cid}"}
        return httpx.Response(200, json={**detail, "id": cid, "realms": [realm]})

    battlenet.route(r"/connected-realm/(\d+)$", one)
    response = client.post(PATH, json={}, headers=service_headers)
    assert response.status_code == 200, response.json
    assert response.json and response.json["counts"]["us"]["retail"]["realms"] == 7
    with db.connection() as conn:
        rows = conn.execute(
            "select connected_realm_id, slug from wow_realms order by id"
        ).fetchall()
    assert rows[0] == {"connected_realm_id": 4, "slug": "realm-4"}


def test_cors_for_the_app_origins_only(client: FlaskClient, app: App) -> None:
    preflight = client.options(PATH, headers={"Origin": "http://localhost:3000"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"]
    error = client.post(PATH, json={}, headers={"Origin": "http://localhost:3000"})
    assert error.status_code == 401 and error.headers["Access-Control-Allow-Origin"]
    other = client.options(PATH, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_wrong_method_or_path(
    client: FlaskClient, app: App, service_headers: dict[str, str]
) -> None:
    response = client.get(PATH, headers=service_headers)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    trailing = client.post(PATH + "/", json={"regions": ["mars"]}, headers=service_headers)
    assert trailing.status_code == 400  # routed: a trailing slash is optional
    assert client.post(PATH + "/extra", json={}, headers=service_headers).status_code == 404
