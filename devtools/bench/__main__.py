"""Run the benchmarks and print their numbers side by side: `python -m devtools.bench`. Each
scenario measures and reports itself (`report(run) -> [Report]`); this only chooses and prints."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import httpx

from devtools.bench import budget, coldstart, fresh, load, prune, scheduling, snapshots, sync
from devtools.bench.common import Report, Run, bench_stack, reset
from devtools.client import StackClient

#: In the order a full run prints them.
SCENARIOS: dict[str, Callable[[Run], list[Report]]] = {
    "sync": sync.report,
    "throughput": load.throughput_report,
    "economy": load.economy_report,
    "budget": budget.report,
    "fresh": fresh.report,
    "snapshots": snapshots.report,
    "scheduling": scheduling.report,
    "prune": prune.report,
    "coldstart": coldstart.report,
}
#: Scenarios of the database alone: no emulator, no gateway.
DATABASE_ONLY = frozenset({"prune", "coldstart"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=list(SCENARIOS))
    args = parser.parse_args(argv)
    chosen = [args.only] if args.only else list(SCENARIOS)
    stack = bench_stack()
    stack.start_database()
    run = Run(stack)
    try:
        if any(name not in DATABASE_ONLY for name in chosen):
            stack.start_emulator()
            stack.start_gateway()
            http = httpx.Client(timeout=60)
            run.client = StackClient(stack.gateway_url, stack.emulator_url, http)
        for name in chosen:
            if run.client is not None:
                reset(stack, run.client)
            for report in SCENARIOS[name](run):
                report.print()
    finally:
        if run.client is not None:
            run.client.http.close()
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
