"""Character sync of a user with 50 characters, emulator latency 100 ms: time from POST to
sync-complete and Battle.net requests, against a sequential baseline that makes the same calls
one after another and writes each character on its own (the seed's approach)."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from devtools.bench.common import Report, Run, settings_for, sql
from devtools.client import StackClient
from devtools.stack import Stack
from shared.blizzard import endpoints as ep
from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import Region
from shared.services.enrichment import profile_data

SEQUENTIAL_UPSERT = """
insert into characters (user_id, region, flavor, realm_id, realm_slug, blizzard_id, name)
values (%s, 'us', 'retail', %s, %s, %s, %s)
on conflict (region, flavor, realm_id, blizzard_id) do update set name = excluded.name
returning id
"""
BENCH_ACCOUNT = 900_001
BASELINE_ACCOUNT = 900_002
REALMS = ["area-52", "tichondrius", "stormrage", "illidan", "sargeras"]


def characters(prefix: str, count: int, first_id: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{prefix}{chr(97 + i // 26 % 26)}{chr(97 + i % 26)}",
            "realm": REALMS[i % len(REALMS)],
            "id": first_id + i,
            "region": "us",
            "flavor": "",
        }
        for i in range(count)
    ]


def follow(stack: Stack, client: StackClient, session_id: str, token: str) -> None:
    """Drain through the queue-consumer function while following the events to the end."""
    done = threading.Event()
    key = stack.service_key()

    def drain() -> None:
        while not done.is_set():
            client.http.post(
                f"{stack.gateway_url}/functions/v1/queue-consumer",
                json={"maxMessages": 500, "maxSeconds": 30},
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            )

    worker = threading.Thread(target=drain, daemon=True)
    worker.start()
    for event, _ in client.events(token, session_id):
        if event in ("sync-complete", "sync-error"):
            break
    done.set()
    worker.join(timeout=60)


def measure(stack: Stack, client: StackClient) -> dict[str, float]:
    client.admin("POST", "/config", {"latency_ms": 100, "rate_limit": 100})
    client.admin(
        "PUT", f"/accounts/{BENCH_ACCOUNT}", {"characters": characters("Para", 50, 9_000_000)}
    )
    login = client.login(BENCH_ACCOUNT)
    sql(stack, "delete from pgmq.q_character_sync")  # the login's own first sync
    client.admin("POST", "/stats/reset")
    started = time.monotonic()
    status, body = client.sync(login["accessToken"])
    assert status == 202, body
    follow(stack, client, body["sessionId"], login["accessToken"])
    parallel_s = time.monotonic() - started
    parallel_requests = client.admin("GET", "/stats")["requests"]

    # The seed's approach: the same calls one after another, one write per character.
    client.admin(
        "PUT", f"/accounts/{BASELINE_ACCOUNT}", {"characters": characters("Seq", 50, 9_001_000)}
    )
    base_login = client.login(BASELINE_ACCOUNT)
    user_token = client.admin("GET", f"/accounts/{BASELINE_ACCOUNT}/tokens")["tokens"][-1]
    blizzard = BlizzardClient(settings_for(stack))
    client.admin("POST", "/stats/reset")
    started = time.monotonic()
    profile = blizzard.fetch(ep.ACCOUNT_PROFILE, region=Region.US, user_token=user_token).value()
    with psycopg.connect(stack.cluster.dsn(), autocommit=True) as conn:
        for c in profile.characters:
            path = {"realm": c.realm.slug, "name": c.name}
            got = blizzard.fetch(ep.CHARACTER, region=Region.US, path=path)
            media = blizzard.fetch(ep.CHARACTER_MEDIA, region=Region.US, path=path).value()
            data = profile_data(got.value(), got.last_modified, media.asset_map())
            params = (base_login["user"]["id"], c.realm.id, c.realm.slug, c.id, c.name)
            row = conn.execute(SEQUENTIAL_UPSERT, params).fetchone()
            assert row is not None
            conn.execute("select public.apply_character_profile(%s, %s)", (row[0], Jsonb(data)))
    sequential_s = time.monotonic() - started
    sequential_requests = client.admin("GET", "/stats")["requests"]
    blizzard.http.close()
    return {
        "parallel_s": parallel_s,
        "parallel_requests": parallel_requests,
        "sequential_s": sequential_s,
        "sequential_requests": sequential_requests,
    }


def report(run: Run) -> list[Report]:
    r = measure(run.stack, run.api)
    return [
        Report(
            "character sync: 50 characters, emulator latency 100 ms",
            ("", "Guild Sync", "sequential (seed)", "ratio"),
            [
                (
                    "POST to sync-complete (s)",
                    f"{r['parallel_s']:.2f}",
                    f"{r['sequential_s']:.2f}",
                    f"{r['sequential_s'] / r['parallel_s']:.1f}x",
                ),
                (
                    "Battle.net requests",
                    f"{r['parallel_requests']:.0f}",
                    f"{r['sequential_requests']:.0f}",
                    "",
                ),
            ],
        )
    ]
