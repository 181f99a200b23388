"""A user's character sync at Battle.net's per-second limit: 300 characters, emulator latency
100 ms and its limit of 100 requests a second (our budget's per-second limit the same). The
physical floor is the sync's requests at 100 a second (1 account call + 2 per character: 601
requests, 6.0 s); the bench prints the time from POST to sync-complete beside it, where the
time went (POST answered, first progress, the busiest and the last second), 429s, and the
seed's sequential approach timed on a sample."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devtools.bench.common import Report, Run, sequential_refreshes, sql, wait_for_empty
from devtools.client import StackClient
from devtools.stack import Stack

CHARACTERS = 300
LATENCY_MS = 100
PER_SECOND = 100
SAMPLE = 10  # characters the sequential baseline is timed on
BENCH_ACCOUNT = 900_001
BASELINE_ACCOUNT = 900_002
REALMS = ["area-52", "tichondrius", "stormrage", "illidan", "sargeras"]


def characters(prefix: str, count: int, first_id: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{prefix}{chr(97 + i // 676 % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i % 26)}",
            "realm": REALMS[i % len(REALMS)],
            "id": first_id + i,
            "region": "us",
            "flavor": "",
        }
        for i in range(count)
    ]


@contextmanager
def draining(stack: Stack, client: StackClient) -> Iterator[None]:
    """The queue-consumer function called as pg_net calls it (looking again at empty queues
    for idleSeconds), from before the sync starts to after it ends."""
    done = threading.Event()
    key = stack.service_key()

    def drain() -> None:
        while not done.is_set():
            client.http.post(
                f"{stack.gateway_url}/functions/v1/queue-consumer",
                json={"maxMessages": 1000, "maxSeconds": 30, "idleSeconds": 30},
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            )

    worker = threading.Thread(target=drain, daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join(timeout=60)


def follow(client: StackClient, session_id: str, token: str) -> dict[str, float]:
    """Follow the events to the end: when (monotonic) the first progress and the end came."""
    seen: dict[str, float] = {}
    for event, data in client.events(token, session_id):
        if event == "sync-progress" and data.get("processedCharacters", 0) > 0:
            seen.setdefault("first_progress", time.monotonic())
        if event in ("sync-complete", "sync-error"):
            seen["end"] = time.monotonic()
            seen["failed"] = float(data.get("failedCharacters", -1))
            break
    return seen


def measure(stack: Stack, client: StackClient) -> dict[str, Any]:
    client.admin("POST", "/config", {"latency_ms": LATENCY_MS, "rate_limit": PER_SECOND})
    client.admin(
        "PUT",
        f"/accounts/{BENCH_ACCOUNT}",
        {"characters": characters("Para", CHARACTERS, 9_000_000)},
    )
    client.admin(
        "PUT", f"/accounts/{BASELINE_ACCOUNT}", {"characters": characters("Seq", SAMPLE, 9_001_000)}
    )
    login = client.login(BENCH_ACCOUNT)
    sql(stack, "delete from pgmq.q_character_sync")  # the login's own first sync
    with draining(stack, client):
        # a running system: another user's login synced first (the functions' app token and
        # connections warm, as an instance's are after its first minutes)
        client.login(BASELINE_ACCOUNT)
        wait_for_empty(stack, "character_sync", timeout=60)
        time.sleep(1.1)  # a fresh second at Battle.net
        client.admin("POST", "/stats/reset")
        started = time.monotonic()
        status, body = client.sync(login["accessToken"])
        posted = time.monotonic()
        assert status == 202, body
        seen = follow(client, body["sessionId"], login["accessToken"])
    stats = client.admin("GET", "/stats")
    api = stats["requests"] - stats["by_endpoint"].get("token", 0)
    seconds = sorted(int(s) for s in stats["per_second"])
    per_second = [stats["per_second"][str(s)] for s in seconds]

    # The seed's approach: the same calls one after another, timed on a sample.
    per_character = sequential_refreshes(stack, characters("Seq", SAMPLE, 9_001_000)) / SAMPLE
    return {
        "total_s": seen["end"] - started,
        "post_s": posted - started,
        "first_progress_s": seen.get("first_progress", seen["end"]) - started,
        "failed": seen["failed"],
        "requests": api,
        "floor_s": api / PER_SECOND,
        "rate_limited": stats["rate_limited"],
        "max_per_second": stats["max_per_second"],
        "per_second": per_second,
        "sequential_s": LATENCY_MS / 1000 + per_character * CHARACTERS,
    }


def report(run: Run) -> list[Report]:
    r = measure(run.stack, run.api)
    assert r["failed"] == 0, r
    return [
        Report(
            f"a user's sync: {CHARACTERS} characters, latency {LATENCY_MS} ms, "
            f"Battle.net's limit {PER_SECOND}/s",
            ("", "Guild Sync", "floor", "ratio"),
            [
                (
                    "POST to sync-complete (s)",
                    f"{r['total_s']:.2f}",
                    f"{r['floor_s']:.2f}",
                    f"{r['total_s'] / r['floor_s']:.2f}x",
                ),
                ("Battle.net requests", f"{r['requests']:.0f}", f"{1 + 2 * CHARACTERS}", ""),
                ("POST answered (s)", f"{r['post_s']:.2f}", "", ""),
                ("first progress event (s)", f"{r['first_progress_s']:.2f}", "", ""),
                (
                    "requests per second at Battle.net",
                    " ".join(str(n) for n in r["per_second"]),
                    "",
                    "",
                ),
                ("busiest second / 429s", f"{r['max_per_second']} / {r['rate_limited']}", "", ""),
                (
                    "sequential (seed), est. from a sample (s)",
                    f"{r['sequential_s']:.1f}",
                    "",
                    f"{r['sequential_s'] / r['total_s']:.1f}x slower",
                ),
            ],
        )
    ]
