"""Throughput under the global limiter and the request economy of conditional refreshes.

- Throughput: 2 consumer processes drain 2,000 character refreshes against the emulator with
  100 ms latency and its 100-requests-per-second limit: requests per second sustained and 429s
  seen, against the seed's sequential approach timed on a sample.
- Economy: requests of one daily refresh of a user with 20 characters where nothing changed,
  against the seed's 1 + 2 x 20.
"""

from __future__ import annotations

import time
from typing import Any

from devtools.bench.common import Report, Run, sequential_refreshes, sql, wait_for_empty
from devtools.bench.sync import characters
from devtools.client import StackClient
from devtools.stack import Stack

ACCOUNTS = range(910_001, 910_041)  # 40 accounts x 50 characters
SAMPLE = 50
ECONOMY_ACCOUNT = 920_001

INSERT_KNOWN = """
insert into characters (region, flavor, realm_id, realm_slug, blizzard_id, name, level,
                        last_login_at, enriched_at)
select 'us', 'retail', (c->>'realm_id')::int, c->>'realm', (c->>'id')::bigint, c->>'name', 70,
       now() - interval '1 day', now() - interval '30 days'
from jsonb_array_elements(%s::jsonb) c
"""


def seed_characters(stack: Stack, client: StackClient) -> list[dict[str, Any]]:
    """2,000 characters the emulator knows, stored as known from a roster (no user)."""
    import json

    known: list[dict[str, Any]] = []
    for i, n in enumerate(ACCOUNTS):
        chars = characters(f"T{i:02d}", 50, 8_000_000 + i * 100)
        client.admin("PUT", f"/accounts/{n}", {"characters": chars})
        known.extend(client.admin("GET", f"/accounts/{n}")["characters"])
    sql(stack, INSERT_KNOWN, json.dumps(known))
    return known


def throughput(stack: Stack, client: StackClient) -> dict[str, float]:
    known = seed_characters(stack, client)
    client.admin("POST", "/config", {"latency_ms": 100, "rate_limit": 100})
    queued = sql(stack, "select public.enqueue_character_refreshes(p_limit => 5000)")[0][0]
    assert queued == len(known), (queued, len(known))
    client.admin("POST", "/stats/reset")
    # The per-second limit is what this measures: the hourly budget raised out of the way (with
    # Blizzard's 36,000/h, bulk work is paced to 8 requests a second: see the budget scenario).
    with stack.consumers(
        2, "--concurrency", "16", "--max-messages", "500", BLIZZARD_RATE_PER_HOUR="100000000"
    ):
        seconds = wait_for_empty(stack, "character_refresh", timeout=600)
    stats = client.admin("GET", "/stats")
    api = stats["requests"] - stats["by_endpoint"].get("token", 0)

    # The seed: one refresh after another (profile + media), timed on a sample.
    client.admin("POST", "/stats/reset")
    sample_s = sequential_refreshes(stack, known[:SAMPLE])
    sample_requests = client.admin("GET", "/stats")["requests"]
    return {
        "refreshes": len(known),
        "seconds": seconds,
        "rps": api / seconds,
        "requests": api,
        "rate_limited": stats["rate_limited"],
        "max_per_second": stats["max_per_second"],
        "seq_rps": sample_requests / sample_s,
        "seq_seconds": sample_s / SAMPLE * len(known),
    }


def economy(stack: Stack, client: StackClient) -> dict[str, float]:
    """A user's daily refresh when nothing changed."""
    client.admin("POST", "/config", {"latency_ms": 0})
    client.admin(
        "PUT", f"/accounts/{ECONOMY_ACCOUNT}", {"characters": characters("Eco", 20, 7_000_000)}
    )
    client.login(ECONOMY_ACCOUNT)  # queues the first sync (a session with enrichments)
    with stack.consumers(1):
        wait_for_empty(stack, "character_sync", timeout=120)
        time.sleep(0.5)
        sql(
            stack,
            "update users set last_profile_sync_at = now() - interval '2 days', "
            "auto_sync = 'daily'",
        )
        client.admin("POST", "/stats/reset")
        assert sql(stack, "select public.enqueue_profile_refreshes()")[0][0] == 1
        wait_for_empty(stack, "profile_sync", timeout=60)
        wait_for_empty(stack, "character_refresh", timeout=60)
        time.sleep(0.5)
    stats = client.admin("GET", "/stats")
    by_endpoint = stats["by_endpoint"]
    return {
        "requests": stats["requests"] - by_endpoint.get("token", 0),
        "not_modified": stats["not_modified"],
        "seed": 1 + 2 * 20,
    }


def throughput_report(run: Run) -> list[Report]:
    t = throughput(run.stack, run.api)
    return [
        Report(
            f"throughput: 2 consumers, {t['refreshes']:.0f} refreshes, latency 100 ms, limit 100/s",
            ("", "Guild Sync", "sequential (seed)", "ratio"),
            [
                (
                    "requests per second",
                    f"{t['rps']:.1f}",
                    f"{t['seq_rps']:.1f}",
                    f"{t['rps'] / t['seq_rps']:.1f}x",
                ),
                (
                    "time to drain (s)",
                    f"{t['seconds']:.1f}",
                    f"{t['seq_seconds']:.1f} (est.)",
                    f"{t['seq_seconds'] / t['seconds']:.1f}x",
                ),
                ("429s seen", f"{t['rate_limited']:.0f}", "", ""),
                ("busiest second at Battle.net", f"{t['max_per_second']:.0f}", "", ""),
            ],
        )
    ]


def economy_report(run: Run) -> list[Report]:
    e = economy(run.stack, run.api)
    return [
        Report(
            "request economy: daily refresh of 20 unchanged characters",
            ("", "Guild Sync", "seed (1 + 2 x 20)", "ratio"),
            [
                (
                    "Battle.net requests",
                    f"{e['requests']:.0f}",
                    f"{e['seed']:.0f}",
                    f"{e['seed'] / e['requests']:.2f}x",
                ),
                ("answered 304", f"{e['not_modified']:.0f}", "0", ""),
            ],
        )
    ]
