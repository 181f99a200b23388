"""The scheduled jobs through the queue-consumer function: conditional refreshes, status checks,
rosters, priorities, and the status endpoint (Battle.net faked with pytest-httpx)."""

from __future__ import annotations

import httpx
import pytest
from flask.testing import FlaskClient

from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.queue import Delivery
from shared.jobs import Job, Outcome, Registry, Worker, WorkerOptions
from shared.jobs.scheduled import StaticData
from tests.functions.conftest import FakeBattleNet, sample_json
from tests.integration.helpers import char, login, start
from tests.integration.helpers import sql as rows

CONSUMER = "/functions/v1/queue-consumer"
LAST_MODIFIED = "Sun, 01 Nov 2026 12:00:00 GMT"


@pytest.fixture
def known(app: App, db: PsycopgDatabase) -> dict[str, int]:
    """Three characters of a user, enriched once (with a stored Last-Modified)."""
    user = login(app.repos)
    result = start(
        app.repos,
        user,
        [
            char(107811065, "Drinian", 1262, "norgannon"),
            char(2, "Gone", 1262, "norgannon"),
            char(3, "Changed", 1262, "norgannon"),
        ],
    )
    rows(db, "delete from pgmq.q_character_sync")
    rows(
        db,
        "update characters set last_modified = '2026-11-01 12:00:00+00', "
        "enriched_at = now() - interval '30 days', last_enqueued_at = null",
    )
    return {c["name"]: c["id"] for c in result["characters"]}


@pytest.fixture
def refreshes(battlenet: FakeBattleNet) -> FakeBattleNet:
    profile = sample_json("character_profile_summary.json")
    media = sample_json("character_media.json")

    def character(request: httpx.Request) -> httpx.Response:
        name = request.url.path.split("/")[5]
        if name == "gone":
            return httpx.Response(404, json={"code": 404})
        if name == "changed":
            return httpx.Response(200, json={**profile, "id": 999})
        if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return httpx.Response(304)
        return httpx.Response(200, json=profile, headers={"Last-Modified": LAST_MODIFIED})

    battlenet.route(r"^/profile/wow/character/[^/]+/[^/]+$", character)
    battlenet.route(r"/status$", lambda r: httpx.Response(404, json={"code": 404}))
    battlenet.route(r"/character-media$", lambda r: httpx.Response(200, json=media))
    return battlenet


def test_conditional_refresh_304_skips_follow_ups(
    consumer: FlaskClient,
    app: App,
    known: dict[str, int],
    refreshes: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    assert app.repos.queue.run_job("enqueue_character_refreshes") == 3
    result = consumer.post(CONSUMER, json={}, headers=service_headers).json
    assert result == {
        "processed": 3,
        "failed": 0,
        "retried": 0,
        "deadLettered": 0,
        "paused": 0,
        "remaining": 0,
    }
    gets = [r for r in refreshes.requests if r.method == "GET"]
    drinian = [r for r in gets if "/drinian" in r.url.path]
    assert [r.url.path.rsplit("/", 1)[-1] for r in drinian] == ["drinian"]  # no media
    assert drinian[0].headers["If-Modified-Since"] == LAST_MODIFIED
    chars = {r["name"]: r for r in rows(db, "select * from characters")}
    assert chars["Drinian"]["refreshed_at"] is not None and chars["Drinian"]["is_active"]
    assert chars["Gone"]["is_active"] is False  # 404, and the status endpoint 404s too
    assert chars["Changed"]["is_active"] is False  # another id behind the same name


def test_modified_profile_is_written_with_media(
    consumer: FlaskClient,
    app: App,
    known: dict[str, int],
    refreshes: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    rows(db, "update characters set last_modified = null")
    app.repos.queue.run_job("enqueue_character_refreshes")
    consumer.post(CONSUMER, json={}, headers=service_headers)
    drinian = rows(db, "select * from characters where name = 'Drinian'")[0]
    assert drinian["avatar_url"] and drinian["equipped_item_level"] == 430
    assert any(r.url.path.endswith("/character-media") for r in refreshes.requests)


def test_roster_job(
    consumer: FlaskClient,
    app: App,
    battlenet: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    roster = sample_json("guild_roster.json")
    battlenet.route(
        r"/roster$",
        lambda r: httpx.Response(200, json=roster, headers={"Last-Modified": LAST_MODIFIED}),
    )
    user = login(app.repos)
    start(
        app.repos,
        user,
        [char(125445770, "Vanstr7A268A", 15, "deathwing"), char(5, "Leaver", 15, "deathwing")],
    )
    rows(
        db,
        "insert into guilds (region, flavor, blizzard_id, name, slug, realm_id, realm_slug) "
        "values ('us', 'retail', 40732076, 'Enigma', 'enigma', 15, 'deathwing')",
    )
    rows(db, "update characters set guild_id = (select id from guilds)")
    assert app.repos.queue.run_job("enqueue_guild_rosters") == 1
    consumer.post(CONSUMER, json={}, headers=service_headers)
    members = rows(
        db,
        "select name, user_id, guild_rank from characters where guild_id is not null order by name",
    )
    assert [m["name"] for m in members] == ["Sharkweak", "Spaawn7A2850", "Vanstr7A268A"]
    assert [m["user_id"] is None for m in members] == [True, True, False]
    assert all(m["guild_rank"] == 4 for m in members)
    guild = rows(db, "select * from guilds")[0]
    assert guild["member_count"] == 3 and guild["roster_last_modified"] is not None


def test_interactive_work_goes_first(app: App, db: PsycopgDatabase) -> None:
    bulk = '{"type": "static_data", "regions": ["eu"]}'
    user = '{"type": "static_data", "regions": ["us"]}'
    rows(
        db,
        f"select pgmq.send_batch('character_refresh', array_agg('{bulk}'::jsonb)) "
        "from generate_series(1, 10000) g",
    )
    rows(
        db,
        f"select pgmq.send_batch('character_sync', array_agg('{user}'::jsonb)) "
        "from generate_series(1, 5) g",
    )
    seen: list[StaticData] = []

    class Probe(Job[StaticData]):
        message = StaticData

        def handle(self, message: StaticData, delivery: Delivery) -> Outcome:
            seen.append(message)
            return Outcome.DONE

    worker = Worker(app.repos.queue, Registry([Probe()]), WorkerOptions(concurrency=16))
    worker.run(max_messages=16)
    assert [m.regions for m in seen[:5]] == [["us"]] * 5  # one batch: all the user's work
    rows(db, f"select pgmq.send('character_sync', '{user}'::jsonb)")
    worker.run(max_messages=16)
    assert seen[16].regions == ["us"]  # a later user message jumps the bulk backlog


def test_status_endpoint(consumer: FlaskClient, app: App, service_headers: dict[str, str]) -> None:
    response = consumer.get(f"{CONSUMER}/status", headers=service_headers)
    assert response.status_code == 200 and response.json
    assert set(response.json["queues"]) >= {"character_sync", "character_refresh"}
    assert consumer.get(f"{CONSUMER}/status").status_code == 401


def test_wrong_methods_are_405(
    consumer: FlaskClient, app: App, service_headers: dict[str, str]
) -> None:
    status = consumer.post(f"{CONSUMER}/status", headers=service_headers)
    assert status.status_code == 405 and status.headers["Allow"] == "GET, HEAD"
    drain = consumer.get(CONSUMER, headers=service_headers)
    assert drain.status_code == 405 and drain.headers["Allow"] == "POST"


def test_the_function_answers_on_its_own_url_too(
    consumer: FlaskClient, app: App, service_headers: dict[str, str]
) -> None:
    """Cloud Functions' and Cloud Run's own URLs deliver `/` and `/status` (pg_net posts to
    `<functions url>/queue-consumer`): taken relative to /functions/v1/queue-consumer."""
    drained = consumer.post("/", json={"maxMessages": 1}, headers=service_headers)
    assert drained.status_code == 200 and drained.json and drained.json["remaining"] == 0
    assert consumer.get("/status", headers=service_headers).status_code == 200
    assert consumer.get("/elsewhere", headers=service_headers).status_code == 404


def test_a_poison_message_cannot_loop_forever(
    consumer: FlaskClient,
    app: App,
    db: PsycopgDatabase,
    service_headers: dict[str, str],
    battlenet: FakeBattleNet,
) -> None:
    """A message whose consumer dies every time (claimed, never settled): once its deliveries
    pass the job's last attempt it is dead-lettered when claimed, without calling Battle.net."""
    rows(db, "select pgmq.send('static_data', '{\"type\": \"static_data\"}')")
    for _ in range(5):  # five consumers died holding it (StaticDataJob.max_attempts)
        assert len(app.repos.queue.queue_claim("static_data", 0, 1, fair=False)) == 1
    before = len(battlenet.requests)
    result = consumer.post(CONSUMER, json={}, headers=service_headers).json
    assert result and result["deadLettered"] == 1 and result["remaining"] == 0
    assert len(battlenet.requests) == before
    [dead] = rows(db, "select message from pgmq.a_static_data")
    assert "consumer died" in dead["message"]["deadLetter"]["error"]
    assert dead["message"]["deadLetter"]["attempts"] == 6
