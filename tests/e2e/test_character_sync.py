"""The character sync session end to end: gateway, emulator, queue, consumer, Postgres."""

from __future__ import annotations

import threading
from typing import Any

from tests.e2e.conftest import E2E

NON_ASCII = [
    {"name": "Zéphyr", "realm": "aggra-português", "region": "eu", "guild": None},
    {"name": "Ærendil", "realm": "гордунни", "region": "eu", "guild": None},
]


def retail(e2e: E2E, user_id: str) -> dict[str, dict[str, Any]]:
    rows = e2e.rows(
        "select c.*, g.name as guild_name, g.blizzard_id as guild_bid from characters c "
        "left join guilds g on g.id = c.guild_id where c.user_id = %s and c.flavor = 'retail'",
        user_id,
    )
    return {r["name"]: r for r in rows}


def test_sync_of_an_account_with_several_wow_accounts(e2e: E2E) -> None:
    account = e2e.emulator("GET", "/accounts/12")
    assert len(account["wow_accounts"]) == 2
    session = e2e.login(12)
    response = e2e.sync(session)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["message"] == "Character sync started" and body["syncedCharacters"] == 7
    e2e.consume_all()
    chars = retail(e2e, session.user_id)
    expected = {c["name"]: c for c in account["characters"] if c["flavor"] == ""}
    assert set(chars) == set(expected)
    for name, row in chars.items():
        want = expected[name]
        assert (row["blizzard_id"], row["realm_slug"], row["level"]) == (
            want["id"],
            want["realm"],
            want["level"],
        )
        assert row["guild_name"] == want["guild"]
        assert row["equipped_item_level"] == want["equipped_item_level"]
        assert row["avatar_url"] and row["avatar_url"].endswith("-avatar.jpg")
        assert row["last_modified"] is not None and row["last_login_at"] is not None
    state = e2e.http.get(
        f"{e2e.gw}/api/v1/characters/sync/{body['sessionId']}", headers=session.headers
    ).json()
    assert state == {
        "sessionId": body["sessionId"],
        "status": "completed",
        "totalCharacters": 7,
        "processedCharacters": 7,
        "failedCharacters": 0,
        "progressPercentage": 100,
    }


def test_non_ascii_names_and_realm_slugs(e2e: E2E) -> None:
    e2e.set_characters(20, NON_ASCII)
    session = e2e.login(20, region="eu")
    response = e2e.sync(session)
    assert response.status_code == 202 and response.json()["syncedCharacters"] == 2
    e2e.consume_all()
    chars = e2e.rows("select name, realm_slug, region, avatar_url, enriched_at from characters")
    assert {(c["name"], c["realm_slug"], c["region"]) for c in chars} == {
        ("Zéphyr", "aggra-português", "eu"),
        ("Ærendil", "гордунни", "eu"),
    }
    assert all(c["enriched_at"] and c["avatar_url"] for c in chars)


def test_guildmates_share_one_guild_row(e2e: E2E) -> None:
    mate = {"realm": "area-52", "guild": "Brothers of Unicode"}
    e2e.set_characters(30, [{"name": "Örnfrid", **mate}, {"name": "Solo", "guild": None}])
    e2e.set_characters(31, [{"name": "Ñandú", **mate}])
    first, second = e2e.login(30), e2e.login(31)
    assert e2e.sync(first).status_code == 202 and e2e.sync(second).status_code == 202
    e2e.consume_all()
    guilds = e2e.rows("select name, realm_slug from guilds")
    assert guilds == [{"name": "Brothers of Unicode", "realm_slug": "area-52"}]
    linked = e2e.rows("select name from characters where guild_id is not null order by name")
    assert [r["name"] for r in linked] == ["Ñandú", "Örnfrid"]


def test_inactive_character_and_media_failure(e2e: E2E) -> None:
    e2e.set_characters(
        40,
        [
            {"name": "Ghost", "inactive": True},
            {"name": "Faceless", "media_fails": True},
            {"name": "Fine"},
        ],
    )
    session = e2e.login(40)
    sid = e2e.sync(session).json()["sessionId"]
    e2e.consume_all()
    chars = retail(e2e, session.user_id)
    assert chars["Ghost"]["enriched_at"] is None
    assert chars["Faceless"]["enriched_at"] and chars["Faceless"]["avatar_url"] is None
    assert chars["Fine"]["avatar_url"]
    items = e2e.rows(
        "select c.name, i.status, i.error from character_sync_items i "
        "join characters c on c.id = i.character_id where i.session_id = %s",
        sid,
    )
    status = {i["name"]: (i["status"], i["error"]) for i in items}
    assert status["Ghost"] == ("failed", "character not found on Battle.net")
    assert status["Faceless"][0] == status["Fine"][0] == "completed"
    state = e2e.http.get(f"{e2e.gw}/api/v1/characters/sync/{sid}", headers=session.headers).json()
    assert (state["processedCharacters"], state["failedCharacters"]) == (3, 1)


def test_second_sync_after_rename_removal_and_new_character(e2e: E2E) -> None:
    e2e.set_characters(
        50,
        [
            {"name": "Before", "realm": "area-52", "id": 50001},
            {"name": "Leaver", "realm": "area-52", "id": 50002},
            {"name": "Keeper", "realm": "area-52", "id": 50003},
        ],
    )
    session = e2e.login(50)
    e2e.sync(session)
    e2e.consume_all()
    ids = {n: r["id"] for n, r in retail(e2e, session.user_id).items()}
    e2e.set_characters(
        50,
        [
            {"name": "After", "realm": "area-52", "id": 50001},
            {"name": "Keeper", "realm": "area-52", "id": 50003},
            {"name": "Newbie", "realm": "area-52", "id": 50004},
        ],
    )
    assert e2e.sync(session).json()["syncedCharacters"] == 3
    e2e.consume_all()
    chars = retail(e2e, session.user_id)
    assert chars["After"]["id"] == ids["Before"] and chars["Keeper"]["id"] == ids["Keeper"]
    assert chars["Leaver"]["is_active"] is False and chars["Leaver"]["archived_at"] is not None
    assert chars["Newbie"]["is_active"] is True and len(chars) == 4
    dupes = e2e.rows("select blizzard_id, count(*) from characters group by 1 having count(*) > 1")
    assert dupes == []


def test_classic_versions_use_their_namespaces(e2e: E2E) -> None:
    session = e2e.login(12)
    e2e.emulator("POST", "/stats/reset")
    for version, flavor, count in (
        ("classic_era", "classic1x", 1),
        ("classic_anniversary", "classicann", 2),
    ):
        body = e2e.sync(session, version).json()
        assert body["syncedCharacters"] == count, body
        e2e.consume_all()
        rows = e2e.rows("select name, avatar_url from characters where flavor = %s", flavor)
        assert len(rows) == count and all(r["avatar_url"] for r in rows)
    # The emulator answers a character only in its own namespace: enriched means found there.
    assert e2e.rows("select count(*) as n from characters where flavor = 'retail'") == [{"n": 0}]


def test_user_without_characters(e2e: E2E) -> None:
    session = e2e.login(13)  # no classic characters
    body = e2e.sync(session, "classic_progression").json()
    assert body["syncedCharacters"] == 0
    state = e2e.http.get(
        f"{e2e.gw}/api/v1/characters/sync/{body['sessionId']}", headers=session.headers
    ).json()
    assert state["status"] == "completed" and state["totalCharacters"] == 0


def test_two_concurrent_syncs_one_409(e2e: E2E) -> None:
    e2e.emulator("POST", "/config", {"latency_ms": 150})
    session = e2e.login(14)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def go() -> None:
        barrier.wait()
        results.append(e2e.sync(session).status_code)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [202, 409]
    assert e2e.rows("select count(*) as n from character_sync_sessions") == [{"n": 1}]


def test_expired_token_409(e2e: E2E) -> None:
    session = e2e.login(15)
    e2e.emulator("POST", "/accounts/15/revoke")
    response = e2e.sync(session)
    assert response.status_code == 409 and "log in" in response.json()["error"]["message"]
    assert e2e.rows("select login_state from users") == [{"login_state": "relogin_required"}]
    again = e2e.sync(session)  # no Battle.net call needed to know
    assert again.status_code == 409


def test_message_delivered_twice_counts_once(e2e: E2E) -> None:
    session = e2e.login(16)
    body = e2e.sync(session).json()
    with e2e.db.connection() as conn:  # deliver every message a second time
        conn.execute(
            "select pgmq.send_batch('character_sync', array_agg(message)) "
            "from pgmq.q_character_sync"
        )
    e2e.consume_all()
    state = e2e.http.get(
        f"{e2e.gw}/api/v1/characters/sync/{body['sessionId']}", headers=session.headers
    ).json()
    total = body["syncedCharacters"]
    assert (state["totalCharacters"], state["processedCharacters"], state["failedCharacters"]) == (
        total,
        total,
        0,
    )
    completes = e2e.rows("select count(*) as n from sync_events where event = 'sync-complete'")
    assert completes == [{"n": 1}]


def test_enrich_one_character(e2e: E2E) -> None:
    session = e2e.login(17)
    body = e2e.sync(session).json()
    e2e.consume_all()
    target = body["characters"][0]
    response = e2e.http.post(
        f"{e2e.gw}/api/v1/characters/{target['id']}/enrich", headers=session.headers
    )
    assert response.status_code == 202
    answer = response.json()
    assert answer["message"] == "Character enrichment queued"
    assert answer["character"] == {
        "id": target["id"],
        "name": target["name"],
        "realm": target["realm"],
    }
    e2e.consume_all()
    state = e2e.http.get(
        f"{e2e.gw}/api/v1/characters/sync/{answer['sessionId']}", headers=session.headers
    ).json()
    assert state["status"] == "completed" and state["totalCharacters"] == 1
    other = e2e.login(18)
    assert (
        e2e.http.post(
            f"{e2e.gw}/api/v1/characters/{target['id']}/enrich", headers=other.headers
        ).status_code
        == 404
    )
