"""The request cost of gear and talent snapshots: a user's daily refresh (20 characters, all
logged in within the last day) after 5 of them changed gear, with snapshots on and with
`GUILD_SYNC_SNAPSHOTS=off`, against the seed's 1 + 2 x 20. Snapshots must add requests only
for the changed characters (2 each: equipment and specializations)."""

from __future__ import annotations

import time
from typing import Any

from devtools.bench.common import Report, Run, sql, wait_for_empty
from devtools.bench.sync import characters
from devtools.client import StackClient
from devtools.stack import Stack

ACCOUNTS = {"on": 930_001, "off": 930_002}
CHARACTERS = 20
CHANGED = 5


def _roster(prefix: str, first_id: int) -> list[dict[str, Any]]:
    login = int(time.time() * 1000) - 3_600_000
    return [
        {**c, "last_login": login, "item_level": 600}
        for c in characters(prefix, CHARACTERS, first_id)
    ]


def _daily_refresh(stack: Stack, client: StackClient, user_id: str, **env: str) -> dict[str, Any]:
    """One user's daily refresh, drained by one consumer; the emulator's stats of it."""
    with stack.consumers(1, **env):
        sql(
            stack,
            "update users set last_profile_sync_at = now() - interval '2 days', "
            "auto_sync = 'daily' where id = %s",
            user_id,
        )
        client.admin("POST", "/stats/reset")
        sql(
            stack,
            "update users set last_profile_sync_at = now() where id <> %s",
            user_id,
        )
        assert sql(stack, "select public.enqueue_profile_refreshes()")[0][0] == 1
        wait_for_empty(stack, "profile_sync", timeout=60)
        wait_for_empty(stack, "character_refresh", timeout=60)
        time.sleep(0.5)
    stats: dict[str, Any] = client.admin("GET", "/stats")
    return stats


def _scenario(stack: Stack, client: StackClient, mode: str, first_id: int) -> dict[str, float]:
    env = {"GUILD_SYNC_SNAPSHOTS": mode}
    account = ACCOUNTS[mode]
    roster = _roster(f"Snap{mode.title()}", first_id)
    client.admin("PUT", f"/accounts/{account}", {"characters": roster})
    login = client.login(account)  # queues the login's first sync (enrichment, first snapshots)
    with stack.consumers(1, **env):
        wait_for_empty(stack, "character_sync", timeout=120)
        time.sleep(0.5)
    time.sleep(1.1)  # Last-Modified has a resolution of one second
    changed = [{**c, "item_level": 612} if i < CHANGED else c for i, c in enumerate(roster)]
    client.admin("PUT", f"/accounts/{account}", {"characters": changed})
    stats = _daily_refresh(stack, client, str(login["user"]["id"]), **env)
    by_endpoint: dict[str, int] = stats["by_endpoint"]
    snapshots_stored = sql(
        stack,
        "select count(*) from character_snapshots s join characters c on c.id = s.character_id "
        "where c.user_id = %s",
        str(login["user"]["id"]),
    )[0][0]
    return {
        "requests": stats["requests"] - by_endpoint.get("token", 0),
        "not_modified": stats["not_modified"],
        "equipment": by_endpoint.get("character-equipment", 0),
        "specializations": by_endpoint.get("character-specializations", 0),
        "snapshots_stored": snapshots_stored,
    }


def measure(stack: Stack, client: StackClient) -> dict[str, dict[str, float]]:
    client.admin("POST", "/config", {"latency_ms": 0})
    return {
        "on": _scenario(stack, client, "on", 7_100_000),
        "off": _scenario(stack, client, "off", 7_200_000),
        "seed": {"requests": 1 + 2 * CHARACTERS},
    }


def report(run: Run) -> list[Report]:
    n = measure(run.stack, run.api)
    on, off, seed = n["on"], n["off"], n["seed"]
    return [
        Report(
            "snapshots: daily refresh of 20 characters, 5 changed (gear)",
            ("", "snapshots on", "snapshots off", "seed (1 + 2 x 20)"),
            [
                (
                    "Battle.net requests",
                    f"{on['requests']:.0f}",
                    f"{off['requests']:.0f}",
                    f"{seed['requests']:.0f}",
                ),
                ("answered 304", f"{on['not_modified']:.0f}", f"{off['not_modified']:.0f}", ""),
                (
                    "equipment + specializations requests",
                    f"{on['equipment'] + on['specializations']:.0f}",
                    f"{off['equipment'] + off['specializations']:.0f}",
                    "",
                ),
                (
                    "snapshots stored (first sync + refresh)",
                    f"{on['snapshots_stored']:.0f}",
                    f"{off['snapshots_stored']:.0f}",
                    "",
                ),
            ],
        )
    ]
