"""Battle.net outages: the circuit breaker through a full outage in the middle of a large sync
(every request 503, then every request hanging), and dead letters requeued as fresh work."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import E2E, wait_until

OUTAGE_ENV = {"BLIZZARD_TIMEOUT_SECONDS": "2", "BLIZZARD_BREAKER_FAILURES": "10"}
PHASE = 15  # seconds of each phase of the outage: 503s, then hanging requests


def session_row(e2e: E2E, sid: str) -> dict[str, Any]:
    [row] = e2e.rows(
        "select status, total_characters, processed_characters, failed_characters "
        "from character_sync_sessions where id = %s",
        sid,
    )
    return row


def test_a_sync_rides_out_a_full_outage(e2e: E2E) -> None:
    names = [f"Out{chr(97 + i // 26 // 26 % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i % 26)}"
             for i in range(300)]  # fmt: skip
    e2e.set_characters(160, [{"name": n, "realm": "area-52"} for n in names])
    user, other = e2e.login(160), e2e.login(161)
    e2e.emulator("POST", "/config", {"latency_ms": 150})
    started = e2e.sync(user)
    assert started.status_code == 202, started.text
    sid = started.json()["sessionId"]
    with e2e.stack.consumers(2, "--concurrency", "4", "--backoff-base", "1", **OUTAGE_ENV):
        wait_until(lambda: session_row(e2e, sid)["processed_characters"] >= 40, timeout=60)
        down = time.time()
        e2e.emulator("POST", "/config", {"fault_rate": 1.0})  # every request: 503
        wait_until(lambda: open_breaker(e2e), timeout=20, step=0.2)
        opened = time.time()
        asked = time.monotonic()
        refused = e2e.sync(other)  # a user's sync during the outage: refused at once
        refused_in = time.monotonic() - asked
        time.sleep(max(0.0, down + PHASE - time.time()))
        e2e.emulator(  # every request hangs
            "POST", "/config", {"fault_rate": 0.0, "timeout_rate": 1.0, "timeout_seconds": 30}
        )
        time.sleep(max(0.0, down + 2 * PHASE - time.time()))
        e2e.emulator("POST", "/config", {"timeout_rate": 0.0})
        recovered = time.time()
        during = session_row(e2e, sid)
        wait_until(lambda: session_row(e2e, sid)["status"] != "processing", timeout=120, step=0.5)
        done = time.time()
    final = session_row(e2e, sid)
    assert final["status"] == "completed" and final["processed_characters"] == 300
    assert final["failed_characters"] == 0  # nothing failed because of the outage
    assert during["status"] == "processing" and during["failed_characters"] == 0

    assert refused.status_code == 503 and refused_in < 3, refused.text
    assert refused.json()["error"]["code"] == "blizzard_unavailable"
    assert int(refused.headers["Retry-After"]) >= 1

    per_second = e2e.emulator("GET", "/stats")["per_second"]
    outage = [per_second.get(str(s), 0) for s in range(int(opened) + 1, int(recovered))]
    assert max(outage) <= 4, outage  # about one probe a second, not one per message
    status = e2e.http.get(f"{e2e.gw}/functions/v1/queue-consumer/status", headers=e2e.service)
    [breaker] = status.json()["breaker"].values()
    assert breaker["open"] is False and breaker["outages"][0]["closedAt"] is not None
    assert breaker["outages"][0]["seconds"] >= 2 * PHASE - 5
    print(
        f"\noutage: {sum(outage)} requests in {len(outage)} s "
        f"(max {max(outage)}/s); breaker open {breaker['outages'][0]['seconds']} s, "
        f"{breaker['outages'][0]['savedRequests']} requests refused; sync complete "
        f"{done - recovered:.1f} s after recovery; 503 to a new sync in {refused_in * 1000:.0f} ms"
    )


def open_breaker(e2e: E2E) -> bool:
    rows = e2e.rows("select opened_at from blizzard_breaker")
    return bool(rows and rows[0]["opened_at"] is not None)


def test_dead_letters_requeued_succeed(e2e: E2E) -> None:
    e2e.set_characters(170, [{"name": f"Dead{c}", "realm": "area-52"} for c in "abcd"])
    user = e2e.login(170)
    sid = e2e.sync(user).json()["sessionId"]
    e2e.emulator("POST", "/config", {"fault_rate": 1.0})  # a long outage, no breaker
    no_breaker = {"BLIZZARD_BREAKER_FAILURES": "0"}
    with e2e.stack.consumers(1, "--backoff-base", "0.2", **no_breaker):
        wait_until(lambda: session_row(e2e, sid)["status"] != "processing", timeout=60)
    assert session_row(e2e, sid)["failed_characters"] == 4
    e2e.emulator("POST", "/config", {"fault_rate": 0.0})

    requeue = f"{e2e.gw}/functions/v1/queue-consumer/requeue"
    assert e2e.http.post(requeue, json={"limit": 0}, headers=e2e.service).status_code == 400
    assert e2e.http.post(requeue, json={}).status_code == 401
    answer = e2e.http.post(requeue, json={"queue": "character_sync", "reason": "503"},
                           headers=e2e.service)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"requeued": 4, "skipped": 0, "byQueue": {"character_sync": 4}}
    assert session_row(e2e, sid)["status"] == "processing"  # reopened, its failures undone
    again = e2e.http.post(requeue, json={}, headers=e2e.service).json()
    assert again["requeued"] == 0  # each dead letter once
    e2e.consume_all()
    final = session_row(e2e, sid)
    assert (final["status"], final["processed_characters"], final["failed_characters"]) == (
        "completed",
        4,
        0,
    )
