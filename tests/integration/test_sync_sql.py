"""The sync SQL functions on the real Postgres: deduplication, one active sync, exact and
idempotent counters, the events the trigger writes, and the queue messages."""

from __future__ import annotations

import json
import threading
from typing import Any

import psycopg

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from tests.integration.helpers import char, claim, login, start
from tests.integration.helpers import sql as rows


def finish(repo: Repositories, session: str, ids: list[int], status: str = "completed") -> None:
    for cid in ids:
        assert repo.sessions.start_character_item(session, cid)
        repo.sessions.record_character_result(
            session, cid, status, None if status == "completed" else "x", None
        )


def test_start_creates_session_items_and_one_message_each(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    result = start(repo, user, [char(1, "Adaxion"), char(2, "Zéphyr", 2, "aggra-português")])
    assert result["conflict"] is False and len(result["characters"]) == 2
    messages = [m.message for m in claim(db, "character_sync", 10)]
    assert sorted(m["name"] for m in messages) == ["Adaxion", "Zéphyr"]
    assert {m["sessionId"] for m in messages} == {result["sessionId"]}
    assert {m["realmSlug"] for m in messages} == {"area-52", "aggra-português"}
    session = rows(db, "select * from character_sync_sessions")[0]
    assert (session["status"], session["total_characters"]) == ("processing", 2)


def test_second_sync_while_active_is_a_conflict(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    first = start(repo, user, [char(1, "A")])
    second = start(repo, user, [char(1, "A")])
    assert second == {"conflict": True, "sessionId": first["sessionId"], "characters": []}
    assert len(claim(db, "character_sync", 10)) == 1


def test_concurrent_starts_exactly_one_wins(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(4)

    def go() -> None:
        barrier.wait()
        results.append(start(repo, user, [char(1, "A"), char(2, "B")]))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["conflict"] for r in results) == [False, True, True, True]
    assert len(rows(db, "select id from characters")) == 2


def test_dedup_rename_removal_new_and_reactivation(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    first = start(repo, user, [char(1, "Old"), char(2, "Gone"), char(3, "Stay")])
    ids = {c["name"]: c["id"] for c in first["characters"]}
    finish(repo, first["sessionId"], list(ids.values()))
    second = start(repo, user, [char(1, "Renamed"), char(3, "Stay"), char(4, "New")])
    finish(repo, second["sessionId"], [c["id"] for c in second["characters"]])
    chars = {r["blizzard_id"]: r for r in rows(db, "select * from characters")}
    assert len(chars) == 4
    assert chars[1]["id"] == ids["Old"] and chars[1]["name"] == "Renamed"
    assert chars[2]["is_active"] is False and chars[2]["archived_at"] is not None
    assert chars[3]["id"] == ids["Stay"] and chars[4]["is_active"] is True
    third = start(
        repo, user, [char(1, "Renamed"), char(2, "Gone"), char(3, "Stay"), char(4, "New")]
    )
    assert len(third["characters"]) == 4
    back = rows(db, "select * from characters where blizzard_id = 2")[0]
    assert back["is_active"] is True and back["archived_at"] is None and back["id"] == ids["Gone"]


def test_other_flavors_are_not_archived(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    finish(
        repo,
        (s := start(repo, user, [char(1, "Retail")]))["sessionId"],
        [c["id"] for c in s["characters"]],
    )
    start(repo, user, [char(9, "Classic", 6103, "dreamscythe")], flavor="classic1x")
    assert rows(db, "select is_active from characters where blizzard_id = 1") == [
        {"is_active": True}
    ]


def test_counters_are_exact_when_a_message_is_delivered_twice(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    result = start(repo, user, [char(1, "A"), char(2, "B")])
    sid, (a, b) = result["sessionId"], [c["id"] for c in result["characters"]]
    assert repo.sessions.start_character_item(sid, a)
    assert (
        repo.sessions.record_character_result(sid, a, "completed", None, None)["recorded"] is True
    )
    assert repo.sessions.start_character_item(sid, a) is False  # redelivered: already final
    assert repo.sessions.record_character_result(sid, a, "completed", None, None) == {
        "recorded": False,
        "reason": "duplicate",
    }
    assert repo.sessions.start_character_item(sid, b)
    repo.sessions.record_character_result(
        sid, b, "failed", "character not found on Battle.net", None
    )
    repo.sessions.record_character_result(sid, b, "failed", "again", None)
    session = rows(db, "select * from character_sync_sessions")[0]
    assert (session["status"], session["processed_characters"], session["failed_characters"]) == (
        "completed",
        2,
        1,
    )
    assert session["completed_at"] is not None


def test_events_have_the_exact_shapes(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    result = start(repo, user, [char(1, "A"), char(2, "B")])
    sid, (a, b) = result["sessionId"], [c["id"] for c in result["characters"]]
    finish(repo, sid, [a])
    finish(repo, sid, [b], status="failed")
    events = repo.sessions.sync_events_since(sid, 0)
    assert [e["event"] for e in events] == ["sync-progress"] * 4 + ["sync-complete"]
    assert events[0]["data"] == {
        "sessionId": sid,
        "status": "processing",
        "totalCharacters": 2,
        "processedCharacters": 0,
        "failedCharacters": 0,
        "progressPercentage": 0,
        "currentCharacter": {"id": a, "name": "A", "realm": "Area 52", "status": "processing"},
    }
    assert events[1]["data"]["currentCharacter"]["status"] == "completed"
    assert events[1]["data"]["progressPercentage"] == 50
    assert events[3]["data"]["currentCharacter"] == {
        "id": b,
        "name": "B",
        "realm": "Area 52",
        "status": "failed",
    }
    assert events[3]["data"]["failedCharacters"] == 1
    assert events[4]["data"] == {
        "sessionId": sid,
        "status": "completed",
        "totalCharacters": 2,
        "processedCharacters": 2,
        "failedCharacters": 1,
        "progressPercentage": 100,
    }
    state = repo.sessions.get_sync_state(sid, user)
    assert state and state["event"] == "sync-complete" and state["lastEventId"] == events[-1]["id"]


def test_sync_error_and_notify(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    sid = start(repo, user, [char(1, "A")])["sessionId"]
    with psycopg.connect(db.dsn, autocommit=True) as listener:
        listener.execute("listen sync_events")
        repo.sessions.fail_sync_session(sid, "stuck for too long")
        note = next(listener.notifies(timeout=5, stop_after=1))
    assert '"sync-error"' in note.payload and sid in note.payload
    assert repo.sessions.sync_events_since(sid, 0)[-1]["data"] == {
        "sessionId": sid,
        "error": "stuck for too long",
    }


def test_empty_account_completes_at_once(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    result = start(repo, user, [])
    events = repo.sessions.sync_events_since(result["sessionId"], 0)
    assert [e["event"] for e in events] == ["sync-complete"]
    assert (
        events[0]["data"]["totalCharacters"] == 0 and events[0]["data"]["progressPercentage"] == 100
    )


def test_login_queues_first_profile_sync(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo, queue="character_sync")
    messages = claim(db, "character_sync", 10)
    assert [m.message for m in messages] == [
        {"type": "profile_sync", "userId": user, "gameVersion": "retail", "reason": "login"}
    ]
    again = login(repo)  # same Battle.net account: same user
    assert again == user and len(rows(db, "select id from users")) == 1


def test_events_go_to_realtime_where_it_exists(realtime: PsycopgDatabase) -> None:
    """As on Supabase: each event is also broadcast to the session's private topic."""
    repo = Repositories.over(realtime)
    result = start(repo, login(repo), [char(1, "A")])
    sid = result["sessionId"]
    finish(repo, sid, [c["id"] for c in result["characters"]])
    sent = rows(
        realtime,
        "select event, payload - 'id' as payload, topic, private, extension from realtime.messages",
    )
    events = repo.sessions.sync_events_since(sid, 0)

    def same(event: str, payload: Any) -> tuple[str, str]:
        return event, json.dumps(payload, sort_keys=True)

    assert sorted(same(s["event"], s["payload"]) for s in sent) == sorted(
        same(e["event"], e["data"]) for e in events
    )
    assert {(s["topic"], s["private"], s["extension"]) for s in sent} == {
        (f"sync:{sid}", True, "broadcast")
    }
