"""Scheduling cost: time and memory for the daily job to enqueue 100,000 users, and the
consumer's overhead to claim and record 10,000 messages against a zero-latency emulator."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg

from devtools.bench.common import Report, Run, sql, wait_for_empty
from devtools.client import StackClient
from devtools.stack import Stack

USERS = 100_000
MESSAGES = 10_000

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


def consume_overhead(stack: Stack, client: StackClient) -> dict[str, float]:
    """10,000 refresh messages answered 304 by a zero-latency emulator with no rate limit: what
    is left is the consumer's own cost (claim, Battle.net round trip on loopback, record)."""
    client.admin("POST", "/config", {"latency_ms": 0, "rate_limit": 0})
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
    with stack.consumers(
        1,
        "--concurrency",
        "16",
        "--max-messages",
        "2000",
        BLIZZARD_RATE_PER_SECOND="100000",
        BLIZZARD_RATE_PER_HOUR="100000000",
    ) as (consumer,):
        # timed from the first claim (the process's start and imports aside: cold start has
        # its own scenario) to the queue's end, with the consumer's CPU time over the same span
        started = started_draining(stack, MESSAGES, timeout=60)
        cpu_before = cpu_seconds(consumer.pid)
        wait_for_empty(stack, "character_refresh", timeout=600)
        seconds = time.monotonic() - started
        cpu = cpu_seconds(consumer.pid) - cpu_before
    return {
        "messages": MESSAGES,
        "seconds": seconds,
        "ms_per_message": seconds * 1000 / MESSAGES,
        "cpu_ms_per_message": cpu * 1000 / MESSAGES,
        "per_second": MESSAGES / seconds,
    }


def started_draining(stack: Stack, messages: int, timeout: float) -> float:
    """When (monotonic) the queue's first message was claimed (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sql(stack, "select count(*) from pgmq.q_character_refresh where read_ct > 0")[0][0]:
            return time.monotonic()
        time.sleep(0.01)
    raise RuntimeError(f"the consumer claimed nothing in {timeout:.0f} s")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(run: Run) -> list[Report]:
    from devtools.bench.load import seed_characters

    s = enqueue_users(run.stack)
    seed_characters(run.stack, run.api)
    c = consume_overhead(run.stack, run.api)
    return [
        Report(
            "scheduling cost",
            ("", "value"),
            [
                ("daily job: users enqueued", f"{s['queued']:.0f}"),
                ("daily job: time (s)", f"{s['seconds']:.2f}"),
                ("daily job: backend peak RSS (MB)", f"{s['peak_rss_mb']:.0f}"),
                ("daily job: backend RSS growth (MB)", f"{s['rss_growth_mb']:.0f}"),
                ("daily job: queue size on disk (MB)", f"{s['queue_mb']:.0f}"),
                ("consumer: messages claimed and recorded", f"{c['messages']:.0f}"),
                ("consumer: time (s)", f"{c['seconds']:.1f}"),
                ("consumer: wall time per character (ms)", f"{c['ms_per_message']:.2f}"),
                ("consumer: its CPU time per character (ms)", f"{c['cpu_ms_per_message']:.2f}"),
                ("consumer: messages per second", f"{c['per_second']:.0f}"),
            ],
        )
    ]
