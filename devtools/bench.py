"""`make bench`: benchmarks against the emulator, measured side by side in one run and printed
as numbers and ratios. Runs on its own cluster and ports (.local/bench-pg, 5434x).

1. Character sync of a user with 50 characters, emulator latency 100 ms: time from POST to
   sync-complete and Battle.net requests, against a sequential baseline that makes the same
   calls one after another and writes each character on its own (the seed's approach).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb

from devtools.client import StackClient
from devtools.stack import ROOT, Stack, StackConfig
from shared.blizzard import endpoints as ep
from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import Region
from shared.services.enrichment import profile_data
from shared.settings import Settings

SEQUENTIAL_UPSERT = """
insert into characters (user_id, region, flavor, realm_id, realm_slug, blizzard_id, name)
values (%s, 'us', 'retail', %s, %s, %s, %s)
on conflict (region, flavor, realm_id, blizzard_id) do update set name = excluded.name
returning id
"""
BENCH_ACCOUNT = 900_001
BASELINE_ACCOUNT = 900_002


def bench_stack() -> Stack:
    config = StackConfig(
        root=ROOT / ".local" / "bench-pg",
        db_port=54342,
        gateway_port=54341,
        emulator_port=54343,
        fast=True,
        consumer=False,
        log_dir=ROOT / ".local" / "bench-logs",
    )
    env = {
        k: v
        for k, v in __import__("os").environ.items()
        if not k.startswith(("BLIZZARD_", "SUPABASE_", "DATABASE_", "TOKEN_", "OAUTH_"))
    }
    return Stack(config, base_env=env)


def settings_for(stack: Stack) -> Settings:
    env = stack.env()
    return Settings.model_validate(
        {
            "database_url": env["DATABASE_URL"],
            "blizzard_api_url": env["BLIZZARD_API_URL"],
            "blizzard_oauth_url": env["BLIZZARD_OAUTH_URL"],
            "oauth_redirect_uri": env["OAUTH_REDIRECT_URI"],
        }
    )


def fifty_characters(prefix: str) -> list[dict[str, Any]]:
    realms = ["area-52", "tichondrius", "stormrage", "illidan", "sargeras"]
    return [
        {
            "name": f"{prefix}{chr(97 + i // 26)}{chr(97 + i % 26)}",
            "realm": realms[i % 5],
            "id": 9_000_000 + i + (0 if prefix == "Para" else 1000),
        }
        for i in range(50)
    ]


def consume_until_done(
    stack: Stack, client: StackClient, key: str, session_id: str, token: str
) -> None:
    """Drain the queue through the queue-consumer function while following the events."""
    done = threading.Event()

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


def bench_sync(stack: Stack, client: StackClient) -> dict[str, float]:
    key = stack.service_key()
    client.admin("POST", "/config", {"latency_ms": 100, "rate_limit": 100})
    client.admin("PUT", f"/accounts/{BENCH_ACCOUNT}", {"characters": fifty_characters("Para")})
    login = client.login(BENCH_ACCOUNT)
    with psycopg.connect(stack.cluster.dsn(), autocommit=True) as conn:
        conn.execute("delete from pgmq.q_character_sync")  # the login's own first sync
    client.admin("POST", "/stats/reset")
    started = time.monotonic()
    status, body = client.sync(login["accessToken"])
    assert status == 202, body
    consume_until_done(stack, client, key, body["sessionId"], login["accessToken"])
    parallel_s = time.monotonic() - started
    parallel_requests = client.admin("GET", "/stats")["requests"]

    # The seed's approach: the same calls one after another, one write per character.
    client.admin("PUT", f"/accounts/{BASELINE_ACCOUNT}", {"characters": fifty_characters("Seq")})
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args(argv)
    stack = bench_stack()
    stack.start_database()
    stack.start_emulator()
    stack.start_gateway()
    client = StackClient(stack.gateway_url, stack.emulator_url, httpx.Client(timeout=60))
    try:
        with psycopg.connect(stack.cluster.dsn(), autocommit=True) as conn:
            conn.execute("truncate users, characters, guilds cascade")
        r = bench_sync(stack, client)
        print("\n== character sync: 50 characters, emulator latency 100 ms ==")
        print(f"{'':28}{'Guild Sync':>14}{'sequential (seed)':>20}{'ratio':>8}")
        print(
            f"{'POST to sync-complete (s)':28}{r['parallel_s']:>14.2f}{r['sequential_s']:>20.2f}"
            f"{r['sequential_s'] / r['parallel_s']:>7.1f}x"
        )
        print(
            f"{'Battle.net requests':28}{r['parallel_requests']:>14.0f}"
            f"{r['sequential_requests']:>20.0f}"
        )
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
