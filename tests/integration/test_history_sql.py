"""Character history (written by the trigger on `characters`) and transfer links, on the real
database: what each writer records, with which source, and what it never records."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from devtools.pgcluster import Cluster
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from tests.integration.helpers import as_role, char, login, sql, start


def changes(db: PsycopgDatabase, character_id: int) -> list[tuple[str, Any, Any, str]]:
    rows = sql(
        db,
        "select field, from_value, to_value, source from character_history "
        "where character_id = %s order by id",
        character_id,
    )
    return [(r["field"], r["from_value"], r["to_value"], r["source"]) for r in rows]


def ids(db: PsycopgDatabase) -> dict[str, int]:
    return {r["name"]: r["id"] for r in sql(db, "select id, name from characters")}


def profile(**data: Any) -> dict[str, Any]:
    return {"media": None, **data}


def test_first_sighting_records_nothing_and_a_second_sync_records_each_change(
    db: PsycopgDatabase,
) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    start(repo, user, [char(1, "Thrall"), char(2, "Jaina")])
    assert sql(db, "select count(*) as n from character_history") == [{"n": 0}]
    sql(db, "update character_sync_sessions set status = 'completed'")

    renamed = {**char(1, "Go'el"), "level": 71}
    start(repo, user, [renamed, char(2, "Jaina")])
    thrall = ids(db)["Go'el"]
    assert changes(db, thrall) == [("name", "Thrall", "Go'el", "sync"), ("level", 70, 71, "sync")]
    assert changes(db, ids(db)["Jaina"]) == []

    sql(db, "update character_sync_sessions set status = 'completed'")
    start(repo, user, [renamed, char(2, "Jaina")])  # the same again: nothing new
    assert len(changes(db, thrall)) == 2


def test_profile_refresh_and_roster_sources(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    start(repo, user, [char(1, "Thrall")])
    thrall = ids(db)["Thrall"]
    guild = {"blizzard_id": 7, "name": "Horde", "slug": "horde", "realm_id": 1,
             "realm_slug": "area-52"}  # fmt: skip
    # The first enrichment fills in item level and guild: unknown values, no change.
    sql(db, "select apply_character_profile(%s, %s)", thrall,
        psycopg.types.json.Jsonb(profile(equipped_item_level=600, guild=guild)))  # fmt: skip
    assert changes(db, thrall) == []

    refreshed = profile(equipped_item_level=610, guild=None)  # as queue_complete applies it
    sql(db, "select record_character_refresh(%s, 'modified', %s)", thrall,
        psycopg.types.json.Jsonb(refreshed))  # fmt: skip
    assert changes(db, thrall) == [
        ("itemLevel", 600, 610, "refresh"),
        ("guild", "Horde", None, "refresh"),
    ]
    sql(db, "select record_character_refresh(%s, 'not_modified', null)", thrall)
    assert len(changes(db, thrall)) == 2

    [g] = sql(
        db,
        "insert into guilds (region, flavor, blizzard_id, name, slug, realm_id, realm_slug) "
        "values ('us', 'retail', 9, 'Alliance', 'alliance', 1, 'area-52') returning id",
    )
    member = {"blizzard_id": 1, "name": "Thrall", "realm_id": 1, "realm_slug": "area-52",
              "level": 70, "class_id": 1, "race_id": 2, "faction": "HORDE", "rank": 3}  # fmt: skip
    members = [member, {**member, "blizzard_id": 50, "name": "Mate"}]
    repo.characters.apply_guild_roster(g["id"], members, None, 2)
    mate = ids(db)["Mate"]
    assert changes(db, mate) == []  # a roster's first sighting
    repo.characters.apply_guild_roster(g["id"], [{**member, "rank": 1},
                                      {**member, "blizzard_id": 50, "name": "Mate", "rank": 2,
                                       "level": 72}], None, 2)  # fmt: skip
    assert changes(db, thrall)[2:] == [
        ("guild", None, "Alliance", "roster"),
        ("rank", 3, 1, "roster"),
    ]
    assert changes(db, mate) == [("level", 70, 72, "roster"), ("rank", 3, 2, "roster")]
    repo.characters.apply_guild_roster(g["id"], [member], None, 1)  # Mate left
    assert changes(db, mate)[-1] == ("guild", "Alliance", None, "roster")
    # the setting does not outlive the writer: a plain update is an account sync's
    sql(db, "update characters set level = 73 where id = %s", mate)
    assert changes(db, mate)[-1] == ("level", 72, 73, "sync")


def test_archive_reactivate_and_a_transfer_linked_once(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    start(repo, user, [char(1, "Thrall"), {**char(2, "Jaina"), "class_id": 8}])
    old = ids(db)["Thrall"]
    sql(db, "update character_sync_sessions set status = 'completed'")

    # Thrall leaves area-52; a warrior of a higher level appears on another realm.
    moved = {**char(11, "Thrall", realm_id=2, slug="moon-guard"), "level": 71}
    start(repo, user, [moved, {**char(2, "Jaina"), "class_id": 8}])
    new = next(r["id"] for r in sql(db, "select id from characters where blizzard_id = 11"))
    links = sql(db, "select id, transferred_to, transferred_from from characters order by id")
    assert {r["id"]: (r["transferred_to"], r["transferred_from"]) for r in links} == {
        old: (new, None),
        new: (None, old),
        ids(db)["Jaina"]: (None, None),
    }
    assert changes(db, old) == [("active", True, False, "sync")]
    assert changes(db, new) == [("transfer", old, new, "sync")]
    history = repo.characters.character_history(user, old, None, 100)
    assert history is not None
    assert [c["field"] for c in history["changes"]] == ["transfer", "active"]

    # Back on the account: reactivated, no second link.
    sql(db, "update character_sync_sessions set status = 'completed'")
    start(repo, user, [char(1, "Thrall"), moved, {**char(2, "Jaina"), "class_id": 8}])
    assert changes(db, old)[-1] == ("active", False, True, "sync")
    assert sql(db, "select count(*) as n from character_history where field = 'transfer'") == [
        {"n": 1}
    ]


@pytest.mark.parametrize(
    "candidate",
    [
        {"class_id": 2},  # another class
        {"level": 69},  # lower level
        {"realm_id": 1, "realm_slug": "area-52"},  # the same realm
    ],
)
def test_no_transfer_without_a_matching_new_character(
    db: PsycopgDatabase, candidate: dict[str, Any]
) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    start(repo, user, [char(1, "Thrall")])
    sql(db, "update character_sync_sessions set status = 'completed'")
    start(repo, user, [{**char(11, "Thrall", realm_id=2, slug="moon-guard"), **candidate}])
    assert sql(db, "select count(*) as n from characters where transferred_to is not null") == [
        {"n": 0}
    ]


def test_never_across_accounts(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    first, second = login(repo, 1001), login(repo, 1002)
    start(repo, first, [char(1, "Thrall")])
    start(repo, second, [char(5, "Jaina")])
    sql(db, "update character_sync_sessions set status = 'completed'")
    # the first account loses Thrall, the second gains a warrior elsewhere
    start(repo, second, [char(5, "Jaina"), char(11, "Thrall", realm_id=2, slug="moon-guard")])
    start(repo, first, [])
    assert sql(db, "select count(*) as n from characters where transferred_to is not null") == [
        {"n": 0}
    ]


def test_history_reads_own_rows_newest_first_with_since_and_limit(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user, other = login(repo, 1001), login(repo, 1002)
    start(repo, user, [char(1, "A")])
    a = ids(db)["A"]
    for level in (71, 72, 73):
        sql(db, "update characters set level = %s where id = %s", level, a)
    sql(db, "update character_history set observed_at = now() - interval '2 days' "
            "where to_value = '71'")  # fmt: skip
    history = repo.characters.character_history(user, a, None, 2)
    assert history is not None and history["characterId"] == a
    assert [(c["from"], c["to"]) for c in history["changes"]] == [(72, 73), (71, 72)]
    assert set(history["changes"][0]) == {"field", "from", "to", "observedAt", "source"}
    since = sql(db, "select now() - interval '1 day' as t")[0]["t"]
    recent = repo.characters.character_history(user, a, since, 100)
    assert recent is not None and len(recent["changes"]) == 2
    assert repo.characters.character_history(other, a, None, 100) is None
    assert repo.characters.character_history(user, a + 1000, None, 100) is None


def test_clients_read_only_their_own_history(db: PsycopgDatabase, cluster: Cluster) -> None:
    repo = Repositories.over(db)
    user, other = login(repo, 1001), login(repo, 1002)
    start(repo, user, [char(1, "A")])
    sql(db, "update characters set level = 71")
    for who, expected in ((user, 1), (other, 0)):
        with as_role(cluster.dsn(), "authenticated", who) as conn:
            [row] = conn.execute("select count(*) as n from character_history").fetchall()
            assert row[0] == expected
    with as_role(cluster.dsn(), "authenticated", user) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from character_history")
