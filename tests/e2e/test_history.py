"""Character history and transfers end to end: the emulator changes an account between two
syncs; the history endpoint shows exactly those changes, and one transfer link."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import E2E, Session

ACCOUNT = 60
BEFORE = [
    {"id": 60001, "name": "Oldname", "realm": "area-52", "class_id": 1, "level": 70},
    {"id": 60002, "name": "Leveler", "realm": "area-52", "class_id": 2, "level": 68},
    {"id": 60003, "name": "Geared", "realm": "area-52", "class_id": 3, "level": 80,
     "guild": "Iron Oath", "item_level": 600},
    {"id": 60004, "name": "Mover", "realm": "area-52", "class_id": 4, "level": 75},
    {"id": 60005, "name": "Steady", "realm": "area-52", "class_id": 5, "level": 80},
]  # fmt: skip
AFTER = [
    {**BEFORE[0], "name": "Newname"},
    {**BEFORE[1], "level": 69},
    {**BEFORE[2], "guild": "Crimson Tide", "item_level": 612},
    # moved: a new character id on another realm, same class, at least the level
    {"id": 60014, "name": "Mover", "realm": "tichondrius", "class_id": 4, "level": 75},
    BEFORE[4],
]


def sync_and_drain(e2e: E2E, session: Session) -> None:
    response = e2e.sync(session)
    assert response.status_code == 202, response.text
    e2e.consume_all()


def history(e2e: E2E, session: Session, character_id: int) -> list[dict[str, Any]]:
    response = e2e.http.get(
        f"{e2e.gw}/api/v1/characters/{character_id}/history", headers=session.headers
    )
    assert response.status_code == 200, response.text
    changes: list[dict[str, Any]] = response.json()["changes"]
    return changes


def plain(changes: list[dict[str, Any]]) -> list[tuple[str, Any, Any, str]]:
    return [(c["field"], c["from"], c["to"], c["source"]) for c in changes]


def test_second_sync_records_exactly_the_changes_and_one_transfer(e2e: E2E) -> None:
    e2e.set_characters(ACCOUNT, BEFORE)
    session = e2e.login(ACCOUNT)
    sync_and_drain(e2e, session)
    listed = e2e.http.get(f"{e2e.gw}/api/v1/characters", headers=session.headers).json()
    ids = {c["name"]: c["id"] for c in listed["characters"]}
    assert all(history(e2e, session, i) == [] for i in ids.values())  # first sighting

    e2e.set_characters(ACCOUNT, AFTER)
    sync_and_drain(e2e, session)
    listed = e2e.http.get(f"{e2e.gw}/api/v1/characters", headers=session.headers).json()
    rows = {(c["name"], c["realmSlug"]): c for c in listed["characters"]}
    old, new = rows[("Mover", "area-52")], rows[("Mover", "tichondrius")]

    assert plain(history(e2e, session, ids["Oldname"])) == [("name", "Oldname", "Newname", "sync")]
    assert plain(history(e2e, session, ids["Leveler"])) == [("level", 68, 69, "sync")]
    geared = plain(history(e2e, session, ids["Geared"]))
    assert sorted(geared) == sorted(
        [("guild", "Iron Oath", "Crimson Tide", "sync"), ("itemLevel", 597, 609, "sync")]
    )  # equipped: the item level minus id % 4 (60003 % 4 = 3)
    assert plain(history(e2e, session, old["id"])) == [
        ("transfer", old["id"], new["id"], "sync"),
        ("active", True, False, "sync"),
    ]
    assert plain(history(e2e, session, new["id"])) == [("transfer", old["id"], new["id"], "sync")]
    assert history(e2e, session, ids["Steady"]) == []
    assert (old["transferredTo"], old["transferredFrom"]) == (new["id"], None)
    assert (new["transferredTo"], new["transferredFrom"]) == (None, old["id"])
    assert e2e.rows("select count(*) as n from characters where transferred_to is not null") == [
        {"n": 1}
    ]
    total = e2e.rows("select count(*) as n from character_history")[0]["n"]
    assert total == 6

    # Nothing changed: neither another sync nor a scheduled refresh adds history.
    sync_and_drain(e2e, session)
    e2e.rows("update characters set refreshed_at = null, enriched_at = now() - interval '30 days'")
    e2e.rows("update characters set last_enqueued_at = null")
    queued = e2e.rows("select public.enqueue_character_refreshes() as n")[0]["n"]
    assert queued >= 4
    e2e.consume_all()
    refreshed = e2e.rows("select count(*) as n from characters where refreshed_at is not null")
    assert refreshed[0]["n"] >= 4
    assert e2e.rows("select count(*) as n from character_history")[0]["n"] == total


def test_history_of_another_users_character_is_404(e2e: E2E) -> None:
    e2e.set_characters(ACCOUNT + 1, [{"name": "Mine", "realm": "area-52"}])
    owner, stranger = e2e.login(ACCOUNT + 1), e2e.login(ACCOUNT + 2)
    sync_and_drain(e2e, owner)
    [row] = e2e.rows("select id from characters where name = 'Mine'")
    path = f"{e2e.gw}/api/v1/characters/{row['id']}/history"
    assert e2e.http.get(path, headers=stranger.headers).status_code == 404
    assert e2e.http.get(path, headers=owner.headers).status_code == 200
    assert e2e.http.get(path + "?limit=0", headers=owner.headers).status_code == 400
