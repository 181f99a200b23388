"""What every benchmark shares: the bench stack, consumer processes, emulator helpers."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from devtools.client import StackClient
from devtools.stack import ROOT, Stack, StackConfig
from shared.blizzard import endpoints as ep
from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import Region
from shared.settings import Settings

LOG_DIR = ROOT / ".local" / "bench-logs"
#: The code measured beside today's where a scenario compares (BENCH_BEFORE=<git revision>;
#: "none" to skip): the last commit before issue 19's work.
BEFORE = os.environ.get("BENCH_BEFORE", "47ba1a1")


def before_revision() -> str | None:
    return None if BEFORE.lower() in ("", "none") else BEFORE


def checkout(revision: str, dest: Path) -> Path:
    """The repository's tree at `revision` (git archive: nothing of the work tree)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def bench_stack() -> Stack:
    config = StackConfig(
        root=ROOT / ".local" / "bench-pg",
        # BENCH_*_PORT: when another bench stack uses the defaults
        db_port=int(os.environ.get("BENCH_DB_PORT", "25442")),
        gateway_port=int(os.environ.get("BENCH_GATEWAY_PORT", "25441")),
        emulator_port=int(os.environ.get("BENCH_EMULATOR_PORT", "25443")),
        fast=True,
        consumer=False,
        log_dir=LOG_DIR,
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BLIZZARD_", "SUPABASE_", "DATABASE_", "TOKEN_", "OAUTH_"))
    }
    return Stack(config, base_env=env)


def settings_for(stack: Stack, **overrides: Any) -> Settings:
    env = stack.env()
    values: dict[str, Any] = {
        "database_url": env["DATABASE_URL"],
        "blizzard_api_url": env["BLIZZARD_API_URL"],
        "blizzard_oauth_url": env["BLIZZARD_OAUTH_URL"],
        "oauth_redirect_uri": env["OAUTH_REDIRECT_URI"],
    }
    values.update(overrides)
    return Settings.model_validate(values)


def sql(stack: Stack, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.cluster.dsn(), autocommit=True) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def reset(stack: Stack, client: StackClient) -> None:
    sql(
        stack,
        "truncate users, characters, guilds, rate_limit_buckets, rate_limit_windows, "
        "blizzard_breaker, blizzard_outages cascade",
    )
    sql(stack, "select pgmq.purge_queue(queue_name) from pgmq.list_queues()")
    client.admin("POST", "/reset")


def wait_until(stack: Stack, query: str, timeout: float, interval: float, what: str) -> float:
    """Seconds until `query` answers true, asked every `interval` on one connection (no new
    backend per look while a consumer is timed); bounded by `timeout`."""
    started = time.monotonic()
    with psycopg.connect(stack.cluster.dsn(), autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            if conn.execute(query).fetchone()[0]:  # type: ignore[index]
                return time.monotonic() - started
            time.sleep(interval)
    raise RuntimeError(f"{what} not in {timeout:.0f} s")


def wait_for_empty(stack: Stack, queue: str, timeout: float) -> float:
    """Seconds until the queue is empty (bounded by `timeout`)."""
    empty = f"select not exists (select 1 from pgmq.q_{queue})"
    return wait_until(stack, empty, timeout, 0.1, f"{queue} drained")


def sequential_refreshes(stack: Stack, chars: list[dict[str, Any]]) -> float:
    """Seconds for the seed's approach: each character's profile and media, one request after
    another."""
    blizzard = BlizzardClient(settings_for(stack))
    started = time.monotonic()
    try:
        for c in chars:
            path = {"realm": c["realm"], "name": c["name"]}
            blizzard.fetch(ep.CHARACTER, region=Region.US, path=path)
            blizzard.fetch(ep.CHARACTER_MEDIA, region=Region.US, path=path)
        return time.monotonic() - started
    finally:
        blizzard.http.close()


def table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    print(f"\n== {title} ==")
    widths = [max(len(str(r[i])) for r in [header, *rows]) + 2 for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


@dataclass
class Report:
    """One table of a scenario's numbers, measured side by side in the run."""

    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]

    def print(self) -> None:
        table(self.title, self.header, self.rows)


@dataclass
class Run:
    """What the scenarios of one `make bench` share: the stack, its client (None for the
    scenarios of the database alone)."""

    stack: Stack
    client: StackClient | None = None

    @property
    def api(self) -> StackClient:
        assert self.client is not None, "this scenario needs the gateway and the emulator"
        return self.client
