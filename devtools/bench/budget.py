"""The scenario a growing app lives in, with a shortened budget window: 20,000 queued scheduled
refreshes and a user's 50-character sync started in the middle of them, against the same sync
on an idle system. Prints the sync's time from POST to complete (and the ratio), Battle.net
requests per window, and bulk throughput as a share of its budget. (How many characters one
client id keeps fresh is measured by the "fresh" scenario, not computed.)"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devtools.bench.common import Report, Run, sql
from devtools.bench.load import seed_characters
from devtools.bench.sync import characters, follow
from devtools.client import StackClient
from devtools.stack import Stack

WINDOW = 10  # seconds
BUDGET = 400  # API requests per window (40/s)
RESERVE = 0.2
ENV = {
    "BLIZZARD_RATE_WINDOW_S": str(WINDOW),
    "BLIZZARD_RATE_PER_HOUR": str(BUDGET),
    "BLIZZARD_INTERACTIVE_RESERVE": str(RESERVE),
}
BACKLOG_COPIES = 10  # 2,000 known characters x 10 = 20,000 queued refreshes
USER_ACCOUNT = 930_001
# a gateway of its own with the shortened window (BENCH_BUDGET_GATEWAY_PORT moves it)
GATEWAY_PORT = int(os.environ.get("BENCH_BUDGET_GATEWAY_PORT", "25444"))
WINDOWS_MEASURED = 5


@contextmanager
def budget_gateway(stack: Stack, env: dict[str, str] | None = None) -> Iterator[str]:
    """A gateway whose Battle.net budget is `env`'s (the shortened window by default)."""
    url = f"http://127.0.0.1:{GATEWAY_PORT}"
    args = ("-m", "devtools.gateway", "--port", str(GATEWAY_PORT))
    proc = stack.start_server("gateway-budget", url + "/health", *args, env=env or ENV)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _timed_sync(client: StackClient, token: str) -> tuple[float, float]:
    """Seconds from POST to the sync's end, and its failed characters."""
    started = time.monotonic()
    status, body = client.sync(token)
    assert status == 202, body
    seen = follow(client, body["sessionId"], token)
    return seen["end"] - started, seen["failed"]


def measure(stack: Stack, client: StackClient) -> dict[str, Any]:
    client.admin("POST", "/config", {"latency_ms": 20, "rate_limit": 100})
    client.admin(
        "PUT", f"/accounts/{USER_ACCOUNT}", {"characters": characters("Busy", 50, 9_300_000)}
    )
    with budget_gateway(stack) as gateway:
        user = StackClient(gateway, client.emulator, client.http)
        token = user.login(USER_ACCOUNT)["accessToken"]
        sql(stack, "delete from pgmq.q_character_sync")  # the login's own first sync
        with stack.consumers(2, "--concurrency", "16", **ENV):
            idle_s, idle_failed = _timed_sync(user, token)
        assert idle_failed == 0, idle_failed

        seed_characters(stack, client)
        sql(
            stack,
            "select pgmq.send_batch('character_refresh', array_agg(refresh_message(c))) "
            "from characters c, generate_series(1, %s) where c.user_id is null",
            BACKLOG_COPIES,
        )
        backlog = sql(stack, "select count(*) from pgmq.q_character_refresh")[0][0]
        sql(stack, "truncate rate_limit_windows")
        client.admin("POST", "/stats/reset")
        with stack.consumers(2, "--concurrency", "16", **ENV):
            first = (int(time.time()) // WINDOW + 1) * WINDOW
            time.sleep(first + 1.5 * WINDOW - time.time())  # bulk alone, then the user
            busy_s, busy_failed = _timed_sync(user, token)
            time.sleep(max(0.0, first + WINDOWS_MEASURED * WINDOW - time.time()))
        left = sql(stack, "select count(*) from pgmq.q_character_refresh")[0][0]
    assert busy_failed == 0, busy_failed
    windows = client.requests_per_window(WINDOW)
    full = [windows[first // WINDOW + i] for i in range(WINDOWS_MEASURED)]
    rows = sql(
        stack,
        "select bulk_used, bulk_cap from rate_limit_windows where window_s = %s "
        "and window_start >= to_timestamp(%s) and window_start < to_timestamp(%s) "
        "order by window_start",
        WINDOW,
        first,
        first + WINDOWS_MEASURED * WINDOW,
    )
    bulk_share = sum(r[0] for r in rows) / max(1, sum(r[1] for r in rows))
    return {
        "idle_s": idle_s,
        "busy_s": busy_s,
        "backlog": backlog,
        "refreshed": backlog - left,
        "per_window": full,
        "max_window": max(windows.values()),
        "bulk_share": bulk_share,
    }


def report(run: Run) -> list[Report]:
    """The budget under a backlog."""
    b = measure(run.stack, run.api)
    return [
        Report(
            f"budget: {b['backlog']:,} queued refreshes + a user's 50-character sync, window "
            f"{WINDOW} s of {BUDGET} requests, reserve {RESERVE:.0%}",
            ("", "busy (backlog)", "idle", "ratio"),
            [
                (
                    "sync: POST to sync-complete (s)",
                    f"{b['busy_s']:.2f}",
                    f"{b['idle_s']:.2f}",
                    f"{b['busy_s'] / b['idle_s']:.2f}x",
                ),
                (
                    "requests per window (5 windows)",
                    " ".join(str(n) for n in b["per_window"]),
                    "",
                    "",
                ),
                ("busiest window / budget", f"{b['max_window']}/{BUDGET}", "", ""),
                ("bulk used / bulk share of budget", f"{b['bulk_share']:.0%}", "", ""),
                ("refreshes done in the run", f"{b['refreshed']:,}", "", ""),
            ],
        ),
    ]
