"""Pruning characters nobody needs (issue 18 item 6), on the real Postgres: what goes, what
never does, bounded batches, memberless guilds, the roster sighting and the status."""

from __future__ import annotations

from typing import Any

import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from tests.integration.helpers import login, sql

ROSTER_MEMBER = {
    "realm_id": 1,
    "realm_slug": "area-52",
    "level": 80,
    "class_id": 1,
    "race_id": 2,
    "faction": "HORDE",
    "rank": 3,
}


def guild(db: PsycopgDatabase, blizzard_id: int, synced_days_ago: float | None = 0) -> int:
    rows = sql(
        db,
        "insert into guilds (region, flavor, blizzard_id, name, slug, realm_id, realm_slug, "
        "roster_synced_at, updated_at) values ('us', 'retail', %s, %s, %s, 1, 'area-52', "
        "now() - make_interval(days => %s), now() - make_interval(days => %s)) returning id",
        blizzard_id,
        f"Guild {blizzard_id}",
        f"guild-{blizzard_id}",
        synced_days_ago,
        synced_days_ago or 0,
    )
    return int(rows[0]["id"])


def character(
    db: PsycopgDatabase,
    blizzard_id: int,
    *,
    seen_days_ago: float | None,
    created_days_ago: float = 365,
    user_id: str | None = None,
    guild_id: int | None = None,
    active: bool = True,
) -> int:
    rows = sql(
        db,
        "insert into characters (user_id, region, flavor, realm_id, realm_slug, blizzard_id, "
        "name, level, guild_id, is_active, created_at, last_seen_in_roster_at) "
        "values (%s, 'us', 'retail', 1, 'area-52', %s, %s, 80, %s, %s, "
        "now() - make_interval(days => %s), now() - make_interval(days => %s)) returning id",
        user_id,
        blizzard_id,
        f"Char{blizzard_id}",
        guild_id,
        active,
        created_days_ago,
        seen_days_ago,
    )
    return int(rows[0]["id"])


def add_snapshot_and_history(db: PsycopgDatabase, character_id: int) -> None:
    sql(
        db,
        "insert into character_snapshots (character_id, kind, content_hash, content) "
        "values (%s, 'equipment', 'h1', '{\"items\": []}'), (%s, 'talents', 'h2', '{}')",
        character_id,
        character_id,
    )
    sql(
        db,
        "insert into character_history (character_id, field, from_value, to_value, source) "
        "values (%s, 'level', '79', '80', 'roster')",
        character_id,
    )


def ids(db: PsycopgDatabase, table: str) -> set[int]:
    return {int(r["id"]) for r in sql(db, f"select id from {table}")}


def prune(db: PsycopgDatabase, **kw: Any) -> dict[str, Any]:
    args = {"after_days": 90, "batch_size": 1000, "max_batches": 50} | kw
    return Repositories.over(db).characters.prune_characters(**args)


def test_roster_sightings_are_recorded(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    gid = guild(db, 1, synced_days_ago=None)
    members = [
        {**ROSTER_MEMBER, "blizzard_id": 10, "name": "Seen"},
        {**ROSTER_MEMBER, "blizzard_id": 11, "name": "Also"},
    ]
    repo.characters.apply_guild_roster(gid, members, None, 2)
    rows = sql(db, "select now() - last_seen_in_roster_at as age from characters")
    assert len(rows) == 2 and all(r["age"].total_seconds() < 60 for r in rows)
    # A roster answered 304 lists the same members: they were seen again.
    sql(db, "update characters set last_seen_in_roster_at = now() - interval '50 days'")
    repo.characters.touch_guild_roster(gid)
    rows = sql(db, "select now() - last_seen_in_roster_at as age from characters")
    assert all(r["age"].total_seconds() < 60 for r in rows)
    # A member who left the roster keeps the day they were last seen in it.
    sql(db, "update characters set last_seen_in_roster_at = now() - interval '50 days'")
    repo.characters.apply_guild_roster(gid, members[:1], None, 1)
    ages = {
        r["name"]: r["age"].days
        for r in sql(db, "select name, now() - last_seen_in_roster_at as age from characters")
    }
    assert ages == {"Seen": 0, "Also": 50}


def test_prunes_unseen_characters_of_nobody_with_their_rows(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo, 2001)
    kept_guild = guild(db, 1, synced_days_ago=200)  # a user's character keeps it
    dead_guild = guild(db, 2, synced_days_ago=200)  # its only member goes
    new_guild = guild(db, 3, synced_days_ago=0)  # memberless, but just made
    mine = character(db, 1, seen_days_ago=300, user_id=user, guild_id=kept_guild)
    archived = character(db, 2, seen_days_ago=300, user_id=user, active=False)
    stale = character(db, 3, seen_days_ago=100, guild_id=dead_guild)
    never_seen_old = character(db, 4, seen_days_ago=None, created_days_ago=120)
    assert never_seen_old not in (mine, archived)
    recent = character(db, 5, seen_days_ago=10)
    never_seen_new = character(db, 6, seen_days_ago=None, created_days_ago=5)
    edge = character(db, 7, seen_days_ago=89)
    for c in (mine, stale, recent):
        add_snapshot_and_history(db, c)
    # the user's character was transferred from the stale one: the link goes, the row stays
    sql(db, "update characters set transferred_from = %s where id = %s", stale, mine)

    result = prune(db)

    assert ids(db, "characters") == {mine, archived, recent, never_seen_new, edge}
    assert ids(db, "guilds") == {kept_guild, new_guild}
    assert (result["characters"], result["snapshots"], result["history"], result["guilds"]) == (
        2,
        2,
        1,
        1,
    )
    assert result["rowsRemoved"] == 6 and result["more"] is False
    left = sql(db, "select character_id, count(*) from character_snapshots group by 1")
    assert {r["character_id"] for r in left} == {mine, recent}
    assert sql(db, "select transferred_from from characters where id = %s", mine) == [
        {"transferred_from": None}
    ]
    # What the status shows: the last prune, rows removed and when.
    status = repo.queue.queue_status()["prune"]
    assert status["rowsRemoved"] == 6 and status["characters"] == 2 and status["at"]
    # Nothing left to prune: a second run removes nothing, and says so.
    assert prune(db)["rowsRemoved"] == 0
    assert repo.queue.queue_status()["prune"]["rowsRemoved"] == 0


def test_a_users_characters_are_never_pruned(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo, 2002)
    for n in range(3):
        character(db, 100 + n, seen_days_ago=None, created_days_ago=3000, user_id=user)
    character(db, 110, seen_days_ago=3000, user_id=user, active=False)
    assert prune(db, after_days=1)["characters"] == 0
    assert len(ids(db, "characters")) == 4


def test_the_threshold_is_a_parameter(db: PsycopgDatabase) -> None:
    character(db, 1, seen_days_ago=100)
    recent = character(db, 2, seen_days_ago=20)
    assert prune(db, after_days=200)["characters"] == 0
    assert prune(db, after_days=30)["characters"] == 1
    assert ids(db, "characters") == {recent}
    with pytest.raises(Exception, match="at least 1"):
        prune(db, after_days=0)


def test_batches_are_bounded(db: PsycopgDatabase) -> None:
    made = [character(db, n, seen_days_ago=200 - n) for n in range(5)]
    first = prune(db, batch_size=2, max_batches=1)
    assert (first["characters"], first["batches"], first["more"]) == (2, 1, True)
    assert ids(db, "characters") == set(made[2:])  # the longest unseen go first
    second = prune(db, batch_size=2, max_batches=2)
    assert (second["characters"], second["batches"], second["more"]) == (3, 2, False)
    assert ids(db, "characters") == set()


def test_memberless_guilds_are_pruned_in_batches_too(db: PsycopgDatabase) -> None:
    for n in range(3):
        guild(db, n, synced_days_ago=30)
    assert prune(db, batch_size=2)["guilds"] == 2
    assert len(ids(db, "guilds")) == 1
    assert prune(db, batch_size=2)["guilds"] == 1
    assert ids(db, "guilds") == set()


def test_the_daily_job_is_scheduled(db: PsycopgDatabase) -> None:
    rows = sql(db, "select command from cron.job where jobname = 'guild-sync-prune-characters'")
    assert rows == [{"command": "select public.prune_characters()"}]
