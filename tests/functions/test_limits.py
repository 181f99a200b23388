"""Limits one client cannot get around (DESIGN.md section 5), through the handlers on the real
Postgres with Battle.net faked: per-user sync and enrichment quotas (429 before any Battle.net
request, nothing written), open streams capped per user and per instance, streams that end
whatever Last-Event-ID they came with, login starts limited per client address, and login
starts that stay fast under a flood of login states."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.functions.conftest import (
    FakeBattleNet,
    first_event,
    function_client,
    make_user,
    parse,
    running_app,
    sample_json,
    service_headers_for,
    user_headers,
)

SYNC = "/api/v1/characters/sync"
LOGIN = "/functions/v1/oauth-flow/login"
ACCOUNT = "/profile/user/wow"


@pytest.fixture
def client() -> FlaskClient:
    return function_client("fetch_profile")


@pytest.fixture
def login_client() -> FlaskClient:
    return function_client("oauth_flow")


@pytest.fixture
def profiles(battlenet: FakeBattleNet) -> FakeBattleNet:
    """Retail: the sample account (three characters), each profile and media answered; any
    other game version: no account (404), so a sync there is born completed."""
    account = sample_json("account_profile_summary_2.json")
    profile = sample_json("character_profile_summary.json")
    media = sample_json("character_media.json")

    def account_profile(request: httpx.Request) -> httpx.Response:
        if request.url.params["namespace"].startswith("profile-us"):
            return httpx.Response(200, json=account)
        return httpx.Response(404, json={"code": 404, "detail": "Not Found"})

    battlenet.route(rf"^{ACCOUNT}$", account_profile)
    battlenet.route(
        r"^/profile/wow/character/[^/]+/[^/]+$", lambda r: httpx.Response(200, json=profile)
    )
    battlenet.route(r"/character-media$", lambda r: httpx.Response(200, json=media))
    return battlenet


@pytest.fixture
def small_limits(db: PsycopgDatabase) -> Iterator[App]:
    yield from running_app(
        db,
        user_enriches_per_hour=2,
        user_max_streams=2,
        max_streams_per_instance=3,
        login_starts_per_minute=3,
    )


def account_calls(fake: FakeBattleNet) -> int:
    return sum(1 for r in fake.requests if r.url.path == ACCOUNT)


def count(db: PsycopgDatabase, statement: str, *params: Any) -> int:
    with db.connection() as conn:
        row = conn.execute(statement, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(next(iter(row.values())))


def assert_429(response: TestResponse) -> int:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.json and response.json["error"]["code"] == "too_many_requests"
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1 and response.json["error"]["retryAfter"] == retry_after
    return retry_after


def test_a_sync_flood_gets_429_after_the_quota_and_spends_only_the_quota(
    client: FlaskClient,
    consumer: FlaskClient,
    app: App,
    profiles: FakeBattleNet,
    service_headers: dict[str, str],
    db: PsycopgDatabase,
) -> None:
    """40 back-to-back syncs of a game version without characters (each session is born
    completed, so 409 never fires): the first 20 are served, the rest are 429 before any
    Battle.net request and write nothing; another user's sync is served meanwhile."""
    flooder = make_user(app, battlenet_id=1)
    flood = user_headers(app.settings, flooder)
    answers = [
        client.post(SYNC, json={"gameVersion": "classic_era"}, headers=flood) for _ in range(40)
    ]
    assert [a.status_code for a in answers] == [202] * 20 + [429] * 20
    retry_after = assert_429(answers[-1])
    assert 3500 <= retry_after <= 3600  # the first sync leaves the rolling hour in an hour
    assert account_calls(profiles) == 20
    assert (
        count(db, "select count(*) from character_sync_sessions where user_id = %s", flooder) == 20
    )
    # a refused login (409) takes no quota either
    expired = make_user(app, battlenet_id=3, hours=-1)
    gone = client.post(
        SYNC, json={"gameVersion": "classic_era"}, headers=user_headers(app.settings, expired)
    )
    assert gone.status_code == 409 and count(db, "select count(*) from user_quota_events") == 20
    # operators are not limited
    as_operator = client.post(
        SYNC, json={"gameVersion": "classic_era", "userId": flooder}, headers=service_headers
    )
    assert as_operator.status_code == 202 and account_calls(profiles) == 21

    other = make_user(app, battlenet_id=2)
    mine = user_headers(app.settings, other)
    started = client.post(SYNC, json={"gameVersion": "retail"}, headers=mine)
    assert started.status_code == 202 and started.json and started.json["syncedCharacters"] == 3
    consumer.post("/functions/v1/queue-consumer", json={"maxMessages": 10}, headers=service_headers)
    state = client.get(f"{SYNC}/{started.json['sessionId']}", headers=mine).json
    assert state and state["status"] == "completed" and state["processedCharacters"] == 3


def test_enrichments_past_the_quota_are_429_and_queue_nothing(
    client: FlaskClient, small_limits: App, profiles: FakeBattleNet, db: PsycopgDatabase
) -> None:
    app = small_limits
    service_headers = service_headers_for(app.settings)
    user = make_user(app)
    headers = user_headers(app.settings, user)
    body = client.post(SYNC, json={"gameVersion": "retail"}, headers=headers).json
    assert body
    ids = [c["id"] for c in body["characters"]]
    with db.connection() as conn:
        conn.execute("update character_sync_sessions set status = 'completed'")
    queued = [client.post(f"/api/v1/characters/{i}/enrich", headers=headers) for i in ids]
    assert [r.status_code for r in queued] == [202, 202, 429]
    assert_429(queued[2])
    again = client.post(f"/api/v1/characters/{ids[0]}/enrich", headers=headers)
    assert again.status_code == 202 and again.json and again.json["pending"] is True
    sessions = count(db, "select count(*) from character_sync_sessions where kind = 'character'")
    assert sessions == 2  # the refused one wrote nothing
    operator = client.post(
        f"/api/v1/characters/{ids[2]}/enrich?userId={user}", headers=service_headers
    )
    assert operator.status_code == 202


def test_streams_past_the_user_or_instance_cap_get_429(
    client: FlaskClient, small_limits: App, profiles: FakeBattleNet, db: PsycopgDatabase
) -> None:
    app = small_limits  # two streams per user, three per instance
    alice = user_headers(app.settings, make_user(app, battlenet_id=1))
    bob = user_headers(app.settings, make_user(app, battlenet_id=2))
    sid = client.post(SYNC, json={"gameVersion": "retail"}, headers=alice).json["sessionId"]
    bob_sid = client.post(SYNC, json={"gameVersion": "retail"}, headers=bob).json["sessionId"]
    url, bob_url = f"{SYNC}/{sid}/events", f"{SYNC}/{bob_sid}/events"
    open_streams = [client.get(url, headers=alice, buffered=False) for _ in range(2)]
    assert [r.status_code for r in open_streams] == [200, 200]
    assert count(db, "select count(*) from open_event_streams") == 2
    assert_429(client.get(url, headers=alice, buffered=False))  # alice's cap
    open_streams.append(client.get(bob_url, headers=bob, buffered=False))
    assert open_streams[-1].status_code == 200  # bob is served
    assert_429(client.get(bob_url, headers=bob, buffered=False))  # the instance's cap
    for response in open_streams:
        response.close()  # the client goes away: the stream gives its places back
    assert count(db, "select count(*) from open_event_streams") == 0
    assert first_event(client, url, alice)["event"] == "sync-progress"


def test_a_stale_last_event_id_stream_ends(
    client: FlaskClient, app: App, profiles: FakeBattleNet, db: PsycopgDatabase
) -> None:
    headers = user_headers(app.settings, make_user(app))
    sid = client.post(SYNC, json={"gameVersion": "retail"}, headers=headers).json["sessionId"]
    url = f"{SYNC}/{sid}/events"
    # running, an id beyond the newest event: the current state at once
    opening = first_event(client, url, {**headers, "Last-Event-ID": "999999999"})
    assert opening["event"] == "sync-progress" and opening["id"] == "0"
    # ended: the end at once, and the stream ends
    with db.connection() as conn:
        conn.execute("select public.fail_sync_session(%s, 'gave up')", (sid,))
    with client.get(url, headers={**headers, "Last-Event-ID": "999999999"}) as response:
        ended = parse(response.get_data(as_text=True))
    assert [e["event"] for e in ended] == ["sync-error"]
    assert count(db, "select count(*) from open_event_streams") == 0  # closed: given back


def login_from(client: FlaskClient, forwarded: str | None) -> TestResponse:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.get(LOGIN, headers=headers)


def test_login_starts_are_limited_per_client_address_as_the_proxy_saw_it(
    login_client: FlaskClient, small_limits: App, db: PsycopgDatabase
) -> None:
    """Behind Google's load balancer X-Forwarded-For ends `<client>, <load balancer>`: the
    second-to-last entry counts, whatever the client wrote before it."""
    via_lb = [login_from(login_client, f"10.9.9.{n}, 203.0.113.7, 35.191.0.1") for n in range(4)]
    assert [r.status_code for r in via_lb] == [302, 302, 302, 429]
    assert 1 <= assert_429(via_lb[3]) <= 60
    assert "Set-Cookie" not in via_lb[3].headers
    assert count(db, "select count(*) from oauth_states") == 3  # the refused one wrote nothing
    assert login_from(login_client, "203.0.113.8, 35.191.0.1").status_code == 302
    assert login_from(login_client, None).status_code == 302  # locally: the peer's address
    broken = login_from(login_client, "10.0.0.1, not-an-address\x00, 35.191.0.1")
    assert broken.status_code == 400  # a proxy writes addresses: nothing is counted or stored
    with db.connection() as conn:
        rows = conn.execute("select address, starts from login_starts order by address")
        assert rows.fetchall() == [
            {"address": "127.0.0.1", "starts": 1},
            {"address": "203.0.113.7", "starts": 3},
            {"address": "203.0.113.8", "starts": 1},
        ]


@pytest.fixture
def unlimited_logins(db: PsycopgDatabase) -> Iterator[App]:
    yield from running_app(db, login_starts_per_minute=100_000)


def median_login_ms(client: FlaskClient, n: int = 30, rounds: int = 3) -> float:
    """The median time of `n` login starts through the handler; the least of `rounds` such
    medians, so a burst of other work on the machine does not decide the comparison."""
    medians = []
    for _ in range(rounds):
        times = []
        for i in range(n):
            began = time.perf_counter()
            response = client.get(LOGIN, query_string={"redirect_to": f"http://localhost:3000/{i}"})
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 302
        medians.append(statistics.median(times))
    return min(medians)


def test_a_flood_of_login_states_leaves_login_starts_fast(
    login_client: FlaskClient, unlimited_logins: App, db: PsycopgDatabase
) -> None:
    median_login_ms(login_client, 10, 1)  # warm up
    idle = median_login_ms(login_client)
    with db.connection() as conn:
        conn.execute(
            "insert into oauth_states (state, code_verifier, redirect_to, region, browser_hash,"
            " expires_at) select 'flood-' || g, repeat('v', 86), 'http://localhost:3000/',"
            " 'us', repeat('h', 64), now() + interval '10 minutes'"
            " from generate_series(1, 100000) g"
        )
        conn.execute("vacuum (analyze) oauth_states")  # what autovacuum does after it, settled
    flooded = median_login_ms(login_client)
    print(f"median login start: idle {idle:.2f} ms, with 100,000 live states {flooded:.2f} ms")
    assert count(db, "select count(*) from oauth_states") >= 100_000 + 90
    assert flooded < 2 * idle
