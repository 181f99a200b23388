"""Snapshots and guild pages in SQL: hash dedupe, sources, who reads (owner, guildmate,
stranger) through the functions and under RLS, and static sync moving a realm to another
connected-realm group."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from tests.integration.helpers import as_role, char, count, login, sql, start

GUILD = {
    "blizzard_id": 77,
    "name": "Shared",
    "slug": "shared",
    "realm_id": 1,
    "realm_slug": "area-52",
    "realm_name": "Area 52",
}
GEAR = {
    "items": [
        {
            "slot": "HEAD",
            "itemId": 1,
            "name": "Hood",
            "quality": "EPIC",
            "itemLevel": 600,
            "enchantments": [],
            "gems": [],
            "set": None,
        }
    ]
}


def enrich(repo: Repositories, user: str, chars: list[dict[str, Any]], guild: bool) -> list[int]:
    result = start(repo, user, chars)
    ids = []
    for c in result["characters"]:
        repo.sessions.start_character_item(result["sessionId"], c["id"])
        data = {"guild": GUILD} if guild else {}
        repo.sessions.record_character_result(result["sessionId"], c["id"], "completed", None, data)
        ids.append(int(c["id"]))
    return ids


@pytest.fixture
def people(db: PsycopgDatabase) -> dict[str, Any]:
    """alice owns character a (in guild Shared), bob has character b in the same guild,
    carol has character c outside it."""
    repo = Repositories.over(db)
    alice, bob, carol = login(repo, 1), login(repo, 2), login(repo, 3)
    (a,) = enrich(repo, alice, [char(11, "Alicia")], guild=True)
    (b,) = enrich(repo, bob, [char(12, "Bobo", realm_id=2, slug="korgath")], guild=True)
    (c,) = enrich(repo, carol, [char(13, "Carola")], guild=False)
    return {"alice": alice, "bob": bob, "carol": carol, "a": a, "b": b, "c": c}


def entry(content: dict[str, Any] | None, profile: str, last: str | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {"kind": "equipment", "profileModified": profile, "lastModified": last}
    if content is not None:
        e.update(content=content, itemLevel=600)
    return e


def test_a_snapshot_is_stored_only_when_its_content_changed(
    db: PsycopgDatabase, people: dict[str, Any]
) -> None:
    repo, a = Repositories.over(db), people["a"]
    t1, t2 = "2026-11-01T00:00:00+00:00", "2026-11-02T00:00:00+00:00"
    first = repo.snapshots.record_character_snapshots(a, [entry(GEAR, t1, t1)])
    assert len(first) == 1
    same = repo.snapshots.record_character_snapshots(
        a, [entry(dict(reversed(GEAR.items())), t2, t2)]
    )
    assert same == []  # same content: no new row
    assert repo.snapshots.record_character_snapshots(a, [entry(None, t2)]) == []  # a 304
    changed = {"items": [{**GEAR["items"][0], "itemLevel": 610}]}
    assert len(repo.snapshots.record_character_snapshots(a, [entry(changed, t2, t2)])) == 1
    sources = repo.snapshots.snapshot_sources(a)
    assert set(sources) == {"equipment"}
    assert sources["equipment"].profile_modified == datetime.fromisoformat(t2)
    assert sources["equipment"].last_modified == datetime.fromisoformat(t2)  # kept over the 304
    listed = repo.snapshots.character_snapshots(people["alice"], a, "equipment")
    assert listed is not None and len(listed["snapshots"]) == 2
    newest = listed["snapshots"][0]
    assert set(newest) == {"id", "takenAt", "itemLevel"}
    whole = repo.snapshots.character_snapshot(people["alice"], a, newest["id"])
    assert whole is not None and whole["items"][0]["itemLevel"] == 610
    assert whole["kind"] == "equipment" and "takenAt" in whole


def test_talents_snapshot_shape(db: PsycopgDatabase, people: dict[str, Any]) -> None:
    repo, a = Repositories.over(db), people["a"]
    content = {"spec": "Arcane", "specId": 62, "loadoutCode": "C4DA", "talents": [{"id": 1}]}
    stored = repo.snapshots.record_character_snapshots(
        a, [{"kind": "talents", "profileModified": None, "content": content, "spec": "Arcane"}]
    )
    listed = repo.snapshots.character_snapshots(people["alice"], a, "talents")
    assert listed == {
        "characterId": a,
        "kind": "talents",
        "snapshots": [
            {"id": stored[0], "takenAt": listed["snapshots"][0]["takenAt"], "spec": "Arcane"}
        ],
    }
    whole = repo.snapshots.character_snapshot(people["alice"], a, stored[0])
    assert whole is not None
    assert (whole["spec"], whole["loadoutCode"], whole["talents"]) == (
        "Arcane",
        "C4DA",
        [{"id": 1}],
    )


def test_owner_and_guildmate_read_a_stranger_does_not(
    db: PsycopgDatabase, people: dict[str, Any]
) -> None:
    repo, a = Repositories.over(db), people["a"]
    (snapshot,) = repo.snapshots.record_character_snapshots(
        a, [entry(GEAR, "2026-11-01T00:00:00Z")]
    )
    for reader in ("alice", "bob"):
        assert repo.snapshots.character_snapshots(people[reader], a, "equipment") is not None
        assert repo.snapshots.character_snapshot(people[reader], a, snapshot) is not None
    assert repo.snapshots.character_snapshots(people["carol"], a, "equipment") is None
    assert repo.snapshots.character_snapshot(people["carol"], a, snapshot) is None
    assert (
        repo.snapshots.character_snapshot(people["alice"], people["b"], snapshot) is None
    )  # wrong pair
    # The same under RLS, as the API roles.
    dsn = db.dsn
    for reader, seen in (("alice", 1), ("bob", 1), ("carol", 0)):
        with as_role(dsn, "authenticated", people[reader]) as conn:
            assert count(conn, "character_snapshots") == seen
            with pytest.raises(Exception, match="permission denied"):
                conn.execute("select * from character_snapshot_sources")
    with as_role(dsn, "anon") as conn, pytest.raises(Exception, match="permission denied"):
        conn.execute("select * from character_snapshots")


def test_guild_page_lists_members_of_every_realm_of_the_group(
    db: PsycopgDatabase, people: dict[str, Any]
) -> None:
    repo = Repositories.over(db)
    repo.static_data.upsert_static_data(
        [
            {
                "region": "us",
                "flavor": "retail",
                "classes": [],
                "races": [],
                "realms": [
                    {"id": 1, "slug": "area-52", "name": "Area 52", "connected_realm_id": 1},
                    {"id": 2, "slug": "korgath", "name": "Korgath", "connected_realm_id": 1},
                ],
            }
        ]
    )
    guild_id = sql(db, "select guild_id from characters where id = %s", people["a"])[0]["guild_id"]
    page = repo.snapshots.guild_page(people["bob"], guild_id)
    assert page is not None
    assert (page["name"], page["realm"], page["connectedRealmId"]) == ("Shared", "Area 52", 1)
    assert sorted((m["name"], m["realm"]) for m in page["members"]) == [
        ("Alicia", "Area 52"),
        ("Bobo", "Korgath"),
    ]
    assert set(page["members"][0]) == {
        "id",
        "name",
        "realm",
        "level",
        "class",
        "rank",
        "lastLoginAt",
        "lastSeenInRosterAt",
        "mine",
    }
    assert {m["name"]: m["mine"] for m in page["members"]} == {"Alicia": False, "Bobo": True}
    assert repo.snapshots.guild_page(people["carol"], guild_id) is None


def test_static_sync_moves_a_realm_to_its_new_group(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)

    def sync(groups: dict[int, int]) -> None:
        realms = [
            {"id": rid, "slug": f"r{rid}", "name": f"R{rid}", "connected_realm_id": group}
            for rid, group in groups.items()
        ]
        repo.static_data.upsert_static_data(
            [{"region": "us", "flavor": "retail", "classes": [], "races": [], "realms": realms}]
        )

    sync({1: 1, 2: 2})
    sync({1: 1, 2: 1})  # Blizzard merged realm 2 into group 1
    rows = sql(db, "select id, connected_realm_id from wow_realms order by id")
    assert [(r["id"], r["connected_realm_id"]) for r in rows] == [(1, 1), (2, 1)]
