"""Scheduling cost: time and memory for the daily job to enqueue 100,000 users, and the
consumer's overhead to claim and record 10,000 messages against a zero-latency emulator, beside
the floor under it: the same requests with nothing of the consumer around them."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import psycopg

from devtools.bench.common import (
    Report,
    Run,
    before_revision,
    checkout,
    settings_for,
    sql,
    wait_for_empty,
    wait_until,
)
from devtools.client import StackClient
from devtools.stack import Stack
from shared.blizzard import endpoints as ep
from shared.blizzard.client import BlizzardClient, character_segment
from shared.blizzard.dates import http_date
from shared.blizzard.regions import GameVersion, Region, namespace

USERS = 100_000
MESSAGES = 10_000
#: Runs of each consumer, now and before taking turns: this machine's speed drifts by a
#: third from one run to the next (all processes alike), so one run each says little.
ROUNDS = int(os.environ.get("BENCH_CONSUMER_ROUNDS", "3"))

INSERT_USERS = """
insert into users (battlenet_id, battletag, token_expires_at, last_profile_sync_at, auto_sync)
select 5000000 + g, 'Bench#' || g, now() + interval '1 day', now() - interval '2 days', 'daily'
from generate_series(1, %s) g
"""


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def enqueue_users(stack: Stack) -> dict[str, float]:
    sql(stack, INSERT_USERS, USERS)
    with psycopg.connect(stack.cluster.dsn(), autocommit=True) as conn:
        pid = conn.execute("select pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        before = peak_rss_kb(pid)
        started = time.monotonic()
        queued = conn.execute(  # all of them (a run of the plan takes what a window serves)
            "select public.enqueue_profile_refreshes(p_limit => %s)", (USERS,)
        ).fetchone()[0]  # type: ignore[index]
        seconds = time.monotonic() - started
        after = peak_rss_kb(pid)
        size = conn.execute("select pg_total_relation_size('pgmq.q_profile_sync')").fetchone()[0]  # type: ignore[index]
    sql(stack, "select pgmq.purge_queue('profile_sync')")
    sql(stack, "truncate users cascade")
    return {
        "queued": queued,
        "seconds": seconds,
        "peak_rss_mb": after / 1024,
        "rss_growth_mb": (after - before) / 1024,
        "queue_mb": size / 1024 / 1024,
    }


CONSUMER_ARGS = ("--direct", "--concurrency", "16", "--max-messages", "2000")
CONSUMER_ENV = {"BLIZZARD_RATE_PER_SECOND": "100000", "BLIZZARD_RATE_PER_HOUR": "100000000"}


@contextmanager
def consumer(stack: Stack, tree: Path | None) -> Iterator[subprocess.Popen[bytes]]:
    """One consumer process (`consumer_loop --direct`), of this checkout or of the code in
    `tree` (another revision's files, first on its path)."""
    code = (
        "import runpy, sys; sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[1:]; "
        "runpy.run_module('devtools.consumer_loop', run_name='__main__')"
    )
    args = ("-c", code, str(tree)) if tree else ("-m", "devtools.consumer_loop")
    proc = stack.spawn("consumer-overhead", *args, *CONSUMER_ARGS, env=CONSUMER_ENV)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def consume_overhead(
    stack: Stack, client: StackClient, tree: Path | None = None
) -> dict[str, float]:
    """10,000 refresh messages answered 304 by a zero-latency emulator with no rate limit: what
    is left is the consumer's own cost (claim, Battle.net round trip on loopback, record). With
    `tree`, the consumer of that code (the same database and emulator)."""
    client.admin("POST", "/config", {"latency_ms": 0, "rate_limit": 0})
    sql(stack, "select pgmq.purge_queue('character_refresh')")
    sql(
        stack,
        "update characters set last_modified = now() + interval '1 day', "
        "refreshed_at = null, enriched_at = now() - interval '30 days', "
        "last_enqueued_at = null",
    )
    available = sql(stack, "select count(*) from characters where is_active")[0][0]
    rounds = -(-MESSAGES // available)
    sql(
        stack,
        "select pgmq.send_batch('character_refresh', array_agg(public.refresh_message(c))) "
        "from characters c, generate_series(1, %s) where c.is_active",
        rounds,
    )
    sql(
        stack,
        "delete from pgmq.q_character_refresh where msg_id not in (select msg_id from "
        "pgmq.q_character_refresh order by msg_id limit %s)",
        MESSAGES,
    )
    with consumer(stack, tree) as proc:
        # timed from the first claim (the process's start and imports aside: cold start has
        # its own scenario) to the queue's end, with the consumer's CPU time over the same span
        started = started_draining(stack, timeout=60)
        cpu_before = cpu_seconds(proc.pid)
        wait_for_empty(stack, "character_refresh", timeout=600)
        seconds = time.monotonic() - started
        cpu = cpu_seconds(proc.pid) - cpu_before
    return {
        "messages": MESSAGES,
        "seconds": seconds,
        "ms_per_message": seconds * 1000 / MESSAGES,
        "cpu_ms_per_message": cpu * 1000 / MESSAGES,
        "per_second": MESSAGES / seconds,
    }


FLOOR_THREADS = 16  # as the consumer's
Floor = Literal["httpx", "transport", "client"]
#: what the floor's requests go through, with its row's label
FLOORS: dict[Floor, str] = {
    "httpx": "one httpx.Client, bare",
    "transport": "httpx's transport, bare (what the Battle.net client sends through)",
    "client": "the Battle.net client (fetch, no budget)",
}


def http_floor(stack: Stack, client: StackClient, through: Floor) -> dict[str, float]:
    """The consumer's requests with nothing of the consumer around them: MESSAGES GETs of the
    same characters' profiles (If-Modified-Since a day ahead: 304s) from 16 threads of this
    process, no database, no worker. `through` is "httpx" (one bare `httpx.Client` over the
    Battle.net client's connection pool: what a consumer built the usual way on httpx pays),
    "transport" (that pool's `handle_request`, bare: the floor under the Battle.net client,
    which sends through it) or "client" (`BlizzardClient.fetch`, no budget: retries, auth,
    hooks and logging added)."""
    client.admin("POST", "/config", {"latency_ms": 0, "rate_limit": 0})
    rows = sql(
        stack,
        "select region, flavor, realm_slug, name from characters where is_active order by id",
    )
    chars = [rows[i % len(rows)] for i in range(MESSAGES)]
    blizzard = BlizzardClient(settings_for(stack))
    since = datetime.now(UTC) + timedelta(days=1)
    header = {"If-Modified-Since": http_date(since)}
    locale = blizzard.settings.blizzard_api_locale

    timeout = blizzard.transport.timeout
    http = httpx.Client(transport=blizzard.http, timeout=timeout)

    def request(row: tuple[Any, ...]) -> httpx.Request:
        region, version = Region(row[0]), GameVersion(row[1])
        path = ep.CHARACTER.path.format(realm=row[2], name=character_segment(row[3]))
        token = blizzard.app_tokens.for_region(region).token()
        params = {"namespace": namespace(ep.CHARACTER.kind, region, version), "locale": locale}
        headers = {**header, "Authorization": f"Bearer {token}"}
        url = blizzard.api_url(region) + path
        return httpx.Request("GET", url, params=params, headers=headers)

    def expect_304(status: int) -> None:
        if status != 304:
            raise RuntimeError(f"the floor expects 304s, the emulator answered {status}")

    def bare(row: tuple[Any, ...]) -> None:
        expect_304(http.send(request(row)).status_code)

    def bare_transport(row: tuple[Any, ...]) -> None:
        sent = request(row)
        sent.extensions["timeout"] = timeout.as_dict()
        response = blizzard.http.handle_request(sent)
        response.read()
        response.close()
        expect_304(response.status_code)

    def fetch(row: tuple[Any, ...]) -> None:
        fetched = blizzard.fetch(
            ep.CHARACTER,
            region=Region(row[0]),
            game_version=GameVersion(row[1]),
            path={"realm": row[2], "name": row[3]},
            if_modified_since=since,
        )
        if not fetched.not_modified:
            raise RuntimeError("the floor expects 304s, the emulator answered 200")

    send = {"httpx": bare, "transport": bare_transport, "client": fetch}[through]
    try:
        send(chars[0])  # the app token and a connection, outside the timing
        cpu_before, started = time.process_time(), time.monotonic()
        with ThreadPoolExecutor(FLOOR_THREADS) as pool:
            for _ in pool.map(send, chars):
                pass
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu_before
    finally:
        http.close()  # and the pool under it
    return {
        "ms_per_message": seconds * 1000 / MESSAGES,
        "cpu_ms_per_message": cpu * 1000 / MESSAGES,
        "per_second": MESSAGES / seconds,
    }


def started_draining(stack: Stack, timeout: float) -> float:
    """When (monotonic) the queue's first message was claimed (bounded by `timeout`)."""
    claimed = "select exists (select 1 from pgmq.q_character_refresh where read_ct > 0)"
    wait_until(stack, claimed, timeout, 0.01, "the consumer's first claim")
    return time.monotonic()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(run: Run) -> list[Report]:
    from devtools.bench.load import seed_characters

    s = enqueue_users(run.stack)
    seed_characters(run.stack, run.api)
    revision = before_revision()
    nows: list[dict[str, float]] = []
    befores: list[dict[str, float]] = []
    floors: dict[Floor, list[dict[str, float]]] = {through: [] for through in FLOORS}
    with tempfile.TemporaryDirectory(prefix="consumer-") as tmp:
        tree = checkout(revision, Path(tmp) / "tree") if revision else None
        for _ in range(ROUNDS):  # in turns, so a slow spell of the machine hits them all
            nows.append(consume_overhead(run.stack, run.api))
            if tree:
                befores.append(consume_overhead(run.stack, run.api, tree))
            for through, runs in floors.items():
                runs.append(http_floor(run.stack, run.api, through))

    def cell(runs: list[dict[str, float]], key: str, fmt: str) -> str:
        values = sorted(r[key] for r in runs)
        median = fmt.format(statistics.median(values))
        if len(values) == 1:
            return median
        return f"{median} ({fmt.format(values[0])} to {fmt.format(values[-1])})"

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    def own(key: str) -> float:  # the consumer's time less the floor it stands on
        return median(nows, key) - median(floors["transport"], key)

    def side(key: str, fmt: str, more_is_better: bool = False) -> tuple[str, ...]:
        if not befores:
            return (cell(nows, key, fmt), "", "")
        now, before = median(nows, key), median(befores, key)
        ratio = now / before if more_is_better else before / now
        return (cell(nows, key, fmt), cell(befores, key, fmt), f"{ratio:.2f}x better")

    label = f"before ({revision})" if revision else "before"
    return [
        Report(
            "scheduling cost: the daily account job for 100,000 users",
            ("", "value"),
            [
                ("users enqueued", f"{s['queued']:.0f}"),
                ("time (s)", f"{s['seconds']:.2f}"),
                ("backend peak RSS (MB)", f"{s['peak_rss_mb']:.0f}"),
                ("backend RSS growth (MB)", f"{s['rss_growth_mb']:.0f}"),
                ("queue size on disk (MB)", f"{s['queue_mb']:.0f}"),
            ],
        ),
        Report(
            f"consumer cost: {MESSAGES:,} refreshes answered 304, zero-latency emulator, one "
            "process of 16 threads (the emulator and Postgres on the same two cores); median "
            f"of {ROUNDS} runs each, in turns (lowest to highest)",
            ("", "now", label, "ratio"),
            [
                ("wall time per character (ms)", *side("ms_per_message", "{:.2f}")),
                ("its CPU time per character (ms)", *side("cpu_ms_per_message", "{:.2f}")),
                ("characters per second", *side("per_second", "{:.0f}", more_is_better=True)),
            ],
        ),
        Report(
            f"the floor under it: the same {MESSAGES:,} requests from {FLOOR_THREADS} threads "
            "with nothing of the consumer around them (no database, no worker), in the same "
            "turns; the consumer's own is its time less the transport's",
            ("", "wall per request (ms)", "CPU per request (ms)", "requests per second"),
            [
                *(
                    (
                        label,
                        cell(floors[through], "ms_per_message", "{:.2f}"),
                        cell(floors[through], "cpu_ms_per_message", "{:.2f}"),
                        cell(floors[through], "per_second", "{:.0f}"),
                    )
                    for through, label in FLOORS.items()
                ),
                (
                    "the consumer (now, above)",
                    f"{median(nows, 'ms_per_message'):.2f}",
                    f"{median(nows, 'cpu_ms_per_message'):.2f}",
                    f"{median(nows, 'per_second'):.0f}",
                ),
                (
                    "the consumer's own (less the transport)",
                    f"{own('ms_per_message'):.2f}",
                    f"{own('cpu_ms_per_message'):.2f}",
                    "",
                ),
            ],
        ),
    ]
