"""Under load and faults: the global rate limiter across two consumer processes, a Battle.net
that fails 10 % of requests and times out 5 %, and the database restarted under a consumer."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import E2E, Session, wait_until


def sessions_done(e2e: E2E) -> bool:
    open_sessions = e2e.rows(
        "select count(*) as n from character_sync_sessions "
        "where status not in ('completed', 'failed')"
    )
    return bool(open_sessions[0]["n"] == 0)


def test_two_consumers_never_exceed_the_per_second_limit(e2e: E2E) -> None:
    e2e.emulator("POST", "/config", {"latency_ms": 50, "rate_limit": 20})
    session = e2e.login(90)
    e2e.set_characters(91, [{"name": f"Load{chr(97 + i)}", "realm": "area-52"} for i in range(24)])
    other = e2e.login(91)
    for s in (session, other):
        assert e2e.sync(s).status_code == 202
    e2e.emulator("POST", "/stats/reset")
    with e2e.stack.consumers(2, "--concurrency", "8", BLIZZARD_RATE_PER_SECOND="20"):
        wait_until(lambda: sessions_done(e2e), timeout=60, step=0.5)
    stats = e2e.emulator("GET", "/stats")
    assert stats["requests"] >= 2 * 26
    assert stats["rate_limited"] == 0 and stats["max_per_second"] <= 20
    states = e2e.rows(
        "select processed_characters, failed_characters, total_characters "
        "from character_sync_sessions"
    )
    assert all(
        s["processed_characters"] == s["total_characters"] and s["failed_characters"] == 0
        for s in states
    )


def test_faults_every_session_ends_and_nothing_is_lost(e2e: E2E) -> None:
    users: list[Session] = []
    for n in (100, 101, 102):
        e2e.set_characters(
            n,
            [{"name": f"F{n}{chr(97 + i)}", "realm": "area-52"} for i in range(8)],
        )
        users.append(e2e.login(n))
        assert e2e.sync(users[-1]).status_code == 202
    e2e.emulator(
        "POST",
        "/config",
        {"fault_rate": 0.10, "timeout_rate": 0.05, "timeout_seconds": 3, "seed": 7},
    )
    with e2e.stack.consumers(
        2, "--visibility-timeout", "3", "--backoff-base", "0.5", BLIZZARD_TIMEOUT_SECONDS="1"
    ):
        wait_until(lambda: sessions_done(e2e), timeout=120, step=0.5)
    stats = e2e.emulator("GET", "/stats")
    assert stats["by_status"].get("503", 0) > 0, "the faults were injected"
    items = e2e.rows("select status, error from character_sync_items")
    assert len(items) == 24 and all(i["status"] in ("completed", "failed") for i in items)
    assert all(i["error"] for i in items if i["status"] == "failed")
    sessions = e2e.rows("select * from character_sync_sessions")
    assert all(s["status"] == "completed" for s in sessions)
    assert all(s["processed_characters"] == 8 for s in sessions)
    failed = sum(1 for i in items if i["status"] == "failed")
    assert sum(s["failed_characters"] for s in sessions) == failed
    assert e2e.rows("select blizzard_id from characters group by 1 having count(*) > 1") == []
    leftover = e2e.rows("select count(*) as n from pgmq.q_character_sync")
    assert leftover == [{"n": 0}]
    dead: list[dict[str, Any]] = e2e.rows(
        "select message from pgmq.a_character_sync where message ? 'deadLetter'"
    )
    assert all(d["message"]["deadLetter"]["error"] for d in dead)
    assert len(dead) == failed  # every failed character was dead-lettered with its reason


def test_database_restart_under_a_running_consumer(e2e: E2E) -> None:
    e2e.set_characters(110, [{"name": f"R{chr(97 + i)}", "realm": "area-52"} for i in range(12)])
    session = e2e.login(110)
    e2e.emulator("POST", "/config", {"latency_ms": 400})
    body = e2e.sync(session).json()
    with e2e.stack.consumers(1, "--concurrency", "2", "--visibility-timeout", "5"):
        wait_until(
            lambda: (
                e2e.rows("select processed_characters as n from character_sync_sessions")[0]["n"]
                >= 2
            ),
            timeout=30,
        )
        e2e.db.pool.close()
        e2e.stack.cluster.restart()
        e2e.db.__init__(e2e.db.dsn, max_size=4)  # type: ignore[misc]
        wait_until(lambda: sessions_done(e2e), timeout=90, step=0.5)
    state = e2e.http.get(
        f"{e2e.gw}/api/v1/characters/sync/{body['sessionId']}", headers=session.headers
    ).json()
    assert (state["status"], state["processedCharacters"], state["failedCharacters"]) == (
        "completed",
        12,
        0,
    )
