"""The live event stream's exact payloads, a consumer killed mid-batch, and secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

from tests.conftest import ROOT
from tests.e2e.conftest import E2E, stack_env, wait_until


def test_event_stream_exact_payloads(e2e: E2E) -> None:
    e2e.set_characters(
        60,
        [
            {"name": "Alpha", "realm": "area-52"},
            {"name": "Ghost", "realm": "area-52", "inactive": True},
        ],
    )
    session = e2e.login(60)
    body = e2e.sync(session).json()
    sid = body["sessionId"]
    ids = {c["name"]: c["id"] for c in body["characters"]}
    events: list[tuple[str, Any]] = []
    reader = e2e.events(session, sid, events)
    wait_until(lambda: len(events) >= 1)
    e2e.consume_all()
    reader.join(timeout=30)
    assert not reader.is_alive(), "the stream must end after sync-complete"
    names = [e for e, _ in events]
    assert names == ["sync-progress"] * 5 + ["sync-complete"]
    assert events[0][1] == {
        "sessionId": sid,
        "status": "processing",
        "totalCharacters": 2,
        "processedCharacters": 0,
        "failedCharacters": 0,
        "progressPercentage": 0,
        "currentCharacter": None,
    }
    progress = [d for e, d in events[1:5]]
    for data in progress:
        assert set(data) == {
            "sessionId",
            "status",
            "totalCharacters",
            "processedCharacters",
            "failedCharacters",
            "progressPercentage",
            "currentCharacter",
        }
        assert data["status"] == "processing" and data["sessionId"] == sid
        assert set(data["currentCharacter"]) == {"id", "name", "realm", "status"}
    ends = [d for d in progress if d["currentCharacter"]["status"] != "processing"]
    assert {(d["currentCharacter"]["name"], d["currentCharacter"]["status"]) for d in ends} == {
        ("Alpha", "completed"),
        ("Ghost", "failed"),
    }
    assert {d["currentCharacter"]["id"] for d in ends} == set(ids.values())
    assert [d["progressPercentage"] for d in ends] == [50, 100]
    assert events[-1][1] == {
        "sessionId": sid,
        "status": "completed",
        "totalCharacters": 2,
        "processedCharacters": 2,
        "failedCharacters": 1,
        "progressPercentage": 100,
    }
    late: list[tuple[str, Any]] = []  # joining after the end: the final state, then the end
    e2e.events(session, sid, late).join(timeout=10)
    assert late == [events[-1]]


def test_consumer_killed_mid_batch(e2e: E2E) -> None:
    e2e.emulator("POST", "/config", {"latency_ms": 1500})
    session = e2e.login(70)
    body = e2e.sync(session).json()
    total = body["syncedCharacters"]
    env = {**stack_env(e2e.db.dsn), **_emulator_urls(e2e), "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "devtools.consumer_loop", "--direct", "--visibility-timeout", "3"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: (
                e2e.rows(
                    "select count(*) as n from character_sync_items where status = 'processing'"
                )[0]["n"]
                > 0
            ),
            timeout=30,
        )
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    e2e.emulator("POST", "/config", {"latency_ms": 0})
    unfinished = e2e.rows(
        "select count(*) as n from character_sync_items where status not in ('completed', 'failed')"
    )[0]["n"]
    assert unfinished > 0, "the kill came too late to test anything"

    def finished() -> bool:
        e2e.consume(maxMessages=100, visibilityTimeout=3)
        state = e2e.http.get(
            f"{e2e.gw}/api/v1/characters/sync/{body['sessionId']}", headers=session.headers
        ).json()
        return bool(state["status"] == "completed")

    wait_until(finished, timeout=60, step=1.0)
    state = e2e.rows("select * from character_sync_sessions")[0]
    assert (state["processed_characters"], state["failed_characters"]) == (total, 0)


def _emulator_urls(e2e: E2E) -> dict[str, str]:
    return {"BLIZZARD_API_URL": e2e.emu, "BLIZZARD_OAUTH_URL": e2e.emu + "/oauth"}


def test_no_battlenet_token_in_plaintext_anywhere(e2e: E2E) -> None:
    session = e2e.login(80)
    body = e2e.sync(session)
    e2e.consume_all()
    tokens = e2e.emulator("GET", "/accounts/80/tokens")["tokens"]
    assert tokens, "the emulator issued the user a token"
    answers = [body.text, e2e.http.get(f"{e2e.gw}/api/v1/characters", headers=session.headers).text]
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            "127.0.0.1",
            "-p",
            str(e2e.stack.cluster.port),
            "-U",
            "postgres",
            "--data-only",
            "postgres",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    logs = "".join(
        p.read_text(errors="replace") for p in (e2e.stack.config.log_dir or ROOT).glob("*.log")
    )
    for token in tokens:
        assert token not in dump and token not in logs
        assert all(token not in a for a in answers)
    stored = e2e.rows("select ciphertext from battlenet_tokens")
    assert stored and all(r["ciphertext"].startswith("v1.") for r in stored)
    assert "local-client-secret" not in logs and json.dumps(answers).find("EMU") == -1
