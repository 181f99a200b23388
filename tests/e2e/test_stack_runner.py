"""`make run`'s entry point as a real process tree (`python -m devtools.stack`), on its own folder
and ports, started while the emulator answers every request with 503: it stays up and says why
static data is missing, has static data once the emulator recovers, restarts a child that dies,
and SIGTERM to its process group stops everything with nothing left listening."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from devtools.pgcluster import Cluster
from tests.conftest import ROOT

# A stack of its own, beside the suite's (2543x) and the benchmarks' (2544x).
GATEWAY_PORT = int(os.environ.get("TEST_STACK_GATEWAY_PORT", "25451"))
DB_PORT = int(os.environ.get("TEST_STACK_DB_PORT", "25452"))
EMULATOR_PORT = int(os.environ.get("TEST_STACK_EMULATOR_PORT", "25453"))
FOLDER = ROOT / ".local" / "test-stack"
STOP_TIMEOUT = 60


@dataclass
class Runner:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, what: Callable[[], bool], timeout: float, label: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the stack exited ({self.process.returncode}):\n{self.output()}")
            if what():
                return
            time.sleep(0.2)
        pytest.fail(f"no {label} within {timeout:.0f} s; output:\n{self.output()[-4000:]}")

    def child(self, module: str) -> int:
        """The pid of the stack's child running `python -m <module>`."""
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid and module.encode() in cmdline:
                return int(entry.name)
        raise AssertionError(f"no child running {module}")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def counts() -> dict[str, int]:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{DB_PORT}/postgres") as conn:
        return {
            table: conn.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
            for table in ("wow_classes", "wow_races", "wow_realms")
        }


@pytest.fixture
def runner() -> Iterator[Runner]:
    assert not any(map(listening, (GATEWAY_PORT, DB_PORT, EMULATOR_PORT))), "ports in use"
    shutil.rmtree(FOLDER, ignore_errors=True)  # a fresh cluster: no static data yet
    FOLDER.mkdir(parents=True)
    log = FOLDER / "stack.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("BLIZZARD_", "SUPABASE_", "TOKEN_", "OAUTH_", "DATABASE_", "EMULATOR_")
        )
    }
    command = [
        sys.executable, "-m", "devtools.stack", "--root", str(FOLDER / "pg"),
        "--db-port", str(DB_PORT), "--gateway-port", str(GATEWAY_PORT),
        "--emulator-port", str(EMULATOR_PORT), "--fast",
        "--check-interval", "1", "--consumer-idle-pause", "0.2",
        "--keys-dir", str(FOLDER / "keys"), "--no-supabase-cli",
        "--", "--fault-rate", "1",  # the emulator starts in an outage: every request 503
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,  # no terminal
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as `make run` in a shell
        )
    try:
        yield Runner(process, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        Cluster(FOLDER / "pg", DB_PORT).stop("immediate")


def test_the_stack_outlives_an_outage_and_a_dead_child_and_stops_on_sigterm(
    runner: Runner,
) -> None:
    started = time.monotonic()
    runner.wait_for(lambda: "Guild Sync is up" in runner.output(), 60, "start")
    runner.wait_for(
        lambda: (
            re.search(r"static data not synced yet: .*Battle.net answered 503", runner.output())
            is not None
        ),
        60,
        "line saying why static data is missing",
    )
    assert counts()["wow_classes"] == 0
    down = time.monotonic()

    recovered = httpx.post(
        f"http://127.0.0.1:{EMULATOR_PORT}/_emulator/config", json={"fault_rate": 0}, timeout=10
    )
    assert recovered.status_code == 200, recovered.text
    runner.wait_for(lambda: min(counts().values()) > 0, 60, "static data")
    synced = time.monotonic()
    runner.wait_for(lambda: "static data is in the database" in runner.output(), 10, "line")

    gateway = runner.child("devtools.gateway")
    os.kill(gateway, signal.SIGKILL)
    runner.wait_for(
        lambda: "gateway was killed by SIGKILL; restarting in 1 s" in runner.output(),
        10,
        "restart line",
    )

    def gateway_back() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{GATEWAY_PORT}/health", timeout=2).is_success
        except httpx.HTTPError:
            return False

    runner.wait_for(gateway_back, 30, "restarted gateway")
    assert runner.child("devtools.gateway") != gateway

    os.killpg(runner.process.pid, signal.SIGTERM)
    assert runner.process.wait(timeout=STOP_TIMEOUT) == 0
    assert "stopped" in runner.output()
    assert not any(map(listening, (GATEWAY_PORT, DB_PORT, EMULATOR_PORT)))
    print(
        f"\nstack runner: up and failing in {down - started:.1f} s, "
        f"static data {synced - down:.1f} s after the emulator recovered"
    )
