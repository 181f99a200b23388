"""Run every benchmark and print the numbers side by side: `python -m devtools.bench`."""

from __future__ import annotations

import argparse
import sys

import httpx

from devtools.bench import budget, load, prune, scheduling, snapshots, sync
from devtools.bench.common import bench_stack, reset, sql, table
from devtools.client import StackClient
from devtools.stack import Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        choices=["sync", "throughput", "economy", "scheduling", "budget", "snapshots", "prune"],
    )
    args = parser.parse_args(argv)
    stack = bench_stack()
    stack.start_database()
    if args.only == "prune":  # the database alone
        try:
            print_prune(stack)
        finally:
            stack.stop()
        return 0
    stack.start_emulator()
    stack.start_gateway()
    client = StackClient(stack.gateway_url, stack.emulator_url, httpx.Client(timeout=60))
    try:
        if args.only in (None, "sync"):
            reset(stack, client)
            r = sync.run(stack, client)
            table(
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
        if args.only in (None, "throughput"):
            reset(stack, client)
            t = load.throughput(stack, client)
            table(
                f"throughput: 2 consumers, {t['refreshes']:.0f} refreshes, latency 100 ms, "
                "limit 100/s",
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
        e: dict[str, float] | None = None
        if args.only in (None, "economy", "budget"):
            reset(stack, client)
            e = load.economy(stack, client)
            table(
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
        if args.only in (None, "budget"):
            reset(stack, client)
            b = budget.run(stack, client)
            table(
                f"budget: {b['backlog']:,} queued refreshes + a user's 50-character sync, window "
                f"{budget.WINDOW} s of {budget.BUDGET} requests, reserve {budget.RESERVE:.0%}",
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
                    ("busiest window / budget", f"{b['max_window']}/{budget.BUDGET}", "", ""),
                    ("bulk used / bulk share of budget", f"{b['bulk_share']:.0%}", "", ""),
                    ("refreshes done in the run", f"{b['refreshed']:,}", "", ""),
                ],
            )
            assert e is not None
            unchanged = (e["requests"] - 1) / 20  # the account call aside
            rows = []
            for label, per_refresh in (("unchanged (304)", unchanged), ("changed", 2.0)):
                fresh = budget.fresh_per_day(per_refresh)
                rows += [
                    (f"{label}, {per_refresh:.2f} req/refresh: {kind}", f"{n:,}")
                    for kind, n in fresh.items()
                ]
            table(
                "characters one client id keeps fresh per day (36,000/h, 80 % for bulk)",
                ("", "characters"),
                rows,
            )
        if args.only in (None, "snapshots"):
            reset(stack, client)
            n = snapshots.run(stack, client)
            on, off, seed = n["on"], n["off"], n["seed"]
            table(
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
        if args.only in (None, "scheduling"):
            reset(stack, client)
            s = scheduling.enqueue_users(stack)
            load.seed_characters(stack, client)
            c = scheduling.consume_overhead(stack, client)
            table(
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
                    ("consumer: overhead per character (ms)", f"{c['ms_per_message']:.2f}"),
                    ("consumer: messages per second", f"{c['per_second']:.0f}"),
                ],
            )
        if args.only is None:
            reset(stack, client)
            print_prune(stack)
    finally:
        client.http.close()
        stack.stop()
    return 0


def print_prune(stack: Stack) -> None:
    sql(stack, "truncate users, characters, guilds, prune_runs cascade")
    p = prune.run(stack)
    samples = p["samples"]
    assert isinstance(samples, list)
    table(
        f"growth: {prune.GUILDS} guilds of {prune.MEMBERS}, {prune.CHURN_PER_DAY} member per "
        f"guild replaced daily for {prune.DAYS} days, prune after {prune.AFTER_DAYS} days",
        ("day", "characters", "table MB", "history rows"),
        [(str(d), f"{n:,}", f"{mb / 100:.2f}", f"{h:,}") for d, n, mb, h in samples],
    )
    table(
        "growth: the prune",
        ("", "value"),
        [
            ("characters without pruning", f"{p['without_prune']:,}"),
            ("characters pruned in the year", f"{p['removed']:,}"),
            ("users' characters kept", f"{p['users_kept']:,}"),
            ("guilds left", f"{p['guilds']:,}"),
            ("prune per day: median (ms)", f"{p['prune_median_ms']:.1f}"),
            ("prune per day: max (ms)", f"{p['prune_max_ms']:.1f}"),
            ("simulation time (s)", f"{p['seconds']:.1f}"),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
