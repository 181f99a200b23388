"""Gear and talent snapshots and the guild page over the gateway, the queue and the emulator:
the first enrichment stores one of each kind; an unchanged daily refresh adds none (and costs
no snapshot request); a gear change, once the profile's Last-Modified moved, adds exactly one
equipment snapshot; the endpoints answer the owner and a guildmate and 404 a stranger."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import E2E, Session

GUILD = {"realm": "area-52", "guild": "Snapshot Keepers"}


def recent_login_ms() -> int:
    return int(time.time() * 1000) - 3_600_000


def daily_refresh(e2e: E2E) -> None:
    """What the daily job does for these users: account profile, then conditional refreshes."""
    e2e.rows(
        "update users set last_profile_sync_at = now() - interval '2 days', auto_sync = 'daily'"
    )
    e2e.rows("select public.enqueue_profile_refreshes()")
    e2e.consume_all()


def snapshots(e2e: E2E, session: Session, character_id: int, kind: str) -> Any:
    response = e2e.http.get(
        f"{e2e.gw}/api/v1/characters/{character_id}/snapshots",
        params={"kind": kind},
        headers=session.headers,
    )
    return response


def test_snapshots_follow_gear_changes_and_guildmates_read_them(e2e: E2E) -> None:
    login = recent_login_ms()
    owned = [
        {"name": "Gearhead", "item_level": 600, "last_login": login, **GUILD},
        {"name": "Bystander", "item_level": 610, "last_login": login, **GUILD},
    ]
    e2e.set_characters(50, owned)
    e2e.set_characters(51, [{"name": "Mate", "last_login": login, **GUILD}])
    e2e.set_characters(52, [{"name": "Stranger", "last_login": login, "guild": None}])
    owner, mate, stranger = e2e.login(50), e2e.login(51), e2e.login(52)
    for session in (owner, mate, stranger):
        assert e2e.sync(session).status_code == 202
    e2e.consume_all()
    ids = {r["name"]: r["id"] for r in e2e.rows("select id, name from characters")}
    count = (
        "select kind, count(*)::int as n from character_snapshots where character_id = %s "
        "group by kind order by kind"
    )
    assert e2e.rows(count, ids["Gearhead"]) == [
        {"kind": "equipment", "n": 1},
        {"kind": "talents", "n": 1},
    ]

    # An unchanged daily refresh: every profile answers 304, no snapshot request, no snapshot.
    e2e.emulator("POST", "/stats/reset")
    daily_refresh(e2e)
    by_endpoint = e2e.emulator("GET", "/stats")["by_endpoint"]
    assert (
        "character-equipment" not in by_endpoint and "character-specializations" not in by_endpoint
    )
    assert e2e.rows("select count(*)::int as n from character_snapshots")[0]["n"] == 8  # 4 x 2

    # A gear change: the profile's Last-Modified moves, one more equipment snapshot (the
    # talents were fetched too and, unchanged, are not stored again).
    time.sleep(1.1)  # Last-Modified has a resolution of one second
    e2e.set_characters(50, [{**owned[0], "item_level": 612}, owned[1]])
    e2e.emulator("POST", "/stats/reset")
    daily_refresh(e2e)
    by_endpoint = e2e.emulator("GET", "/stats")["by_endpoint"]
    assert by_endpoint.get("character-equipment") == 1  # only the changed character
    assert e2e.rows(count, ids["Gearhead"]) == [
        {"kind": "equipment", "n": 2},
        {"kind": "talents", "n": 1},
    ]
    assert e2e.rows(count, ids["Bystander"])[0]["n"] == 1

    # Owner and guildmate read; a stranger gets 404.
    for session in (owner, mate):
        listed = snapshots(e2e, session, ids["Gearhead"], "equipment")
        assert listed.status_code == 200, listed.text
        items = listed.json()["snapshots"]
        assert len(items) == 2 and items[0]["itemLevel"] > items[1]["itemLevel"]
        whole = e2e.http.get(
            f"{e2e.gw}/api/v1/characters/{ids['Gearhead']}/snapshots/{items[0]['id']}",
            headers=session.headers,
        )
        assert whole.status_code == 200 and whole.json()["items"]
    assert snapshots(e2e, stranger, ids["Gearhead"], "equipment").status_code == 404
    talents = snapshots(e2e, mate, ids["Gearhead"], "talents").json()["snapshots"]
    assert len(talents) == 1 and talents[0]["spec"]

    # The guild page: members from the guild's realm group, for members only.
    guild_id = e2e.rows("select guild_id from characters where id = %s", ids["Mate"])[0]["guild_id"]
    page = e2e.http.get(f"{e2e.gw}/api/v1/guilds/{guild_id}", headers=mate.headers)
    assert page.status_code == 200, page.text
    assert page.json()["connectedRealmId"] is not None or page.json()["realm"]
    assert {"Gearhead", "Bystander", "Mate"} <= {m["name"] for m in page.json()["members"]}
    assert (
        e2e.http.get(f"{e2e.gw}/api/v1/guilds/{guild_id}", headers=stranger.headers).status_code
        == 404
    )
