"""`make run`: the whole local stack from one command (DESIGN.md section 8).

Starts the project's Postgres 15 cluster (pg_cron preloaded) under `.local/pg`, applies the
schema, starts the Battle.net emulator when no BLIZZARD_CLIENT_ID is set, serves every function
on the gateway, runs the queue-consumer loop, prints the URLs and then supervises, whatever
Battle.net answers:
- static data is synced as queued work the consumer runs; while it is missing the stack says
  why and queues it again (`devtools.static_watch`);
- a child that exits (consumer, emulator, gateway) is restarted with backoff
  (`devtools.supervisor`).
Only SIGINT or SIGTERM stops it, and then everything stops. Every setting of DESIGN.md
section 3 comes from the environment; folder and ports come from the command line
(`python -m devtools.stack --help`). The test suite uses `Stack` too, on its own folder and
ports.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devtools.local_keys import LocalKeys, auth_env
from devtools.migrate import migrate, pgmq_version
from devtools.pgcluster import PORT_BUSY_TIMEOUT, Cluster
from devtools.static_watch import DEFAULT_INTERVAL, DatabaseStaticData, StaticDataWatch
from devtools.supervisor import Supervisor
from shared.jobs.consumer import pgmq_problem

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0
LOOP_PAUSE = 0.5  # the runner's main loop: child checks are a poll() each
SUPERVISED = ("emulator", "gateway", "consumer")


@dataclass
class StackConfig:
    root: Path = ROOT / ".local" / "pg"
    db_port: int = 54322
    gateway_port: int = 54321
    emulator_port: int = 54323
    fast: bool = False
    consumer: bool = True
    emulator_args: list[str] = field(default_factory=list)
    log_dir: Path | None = None  # children's output goes to <log_dir>/<name>.log when set
    consumer_idle_pause: float | None = None  # the consumer loop's pause on empty queues
    check_interval: float = DEFAULT_INTERVAL  # seconds between static-data checks
    # `make run` alone may fall back to the PyPI package's pgmq SQL where hosted's pgmq is not
    # installed as an extension (it says so loudly); the tests never do
    allow_pypi_pgmq: bool = False
    keys: LocalKeys = field(default_factory=LocalKeys)  # the new keys unless the env says


def wait_http(
    url: str, timeout: float = READY_TIMEOUT, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


class Stack:
    def __init__(self, config: StackConfig, base_env: dict[str, str] | None = None) -> None:
        self.config = config
        self.cluster = Cluster(config.root, config.db_port, fast=config.fast)
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.commands: dict[str, tuple[tuple[str, ...], dict[str, str] | None]] = {}

    @property
    def uses_emulator(self) -> bool:
        return not self.base_env.get("BLIZZARD_CLIENT_ID")

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.config.gateway_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.config.emulator_port}"

    def env(self) -> dict[str, str]:
        env = dict(self.base_env)
        env.setdefault("DATABASE_URL", self.cluster.dsn())
        env.setdefault("OAUTH_REDIRECT_URI", self.gateway_url + "/functions/v1/oauth-flow/callback")
        env.update(auth_env(env, self.config.keys, self.gateway_url))
        if self.uses_emulator:
            env["BLIZZARD_API_URL"] = self.emulator_url
            env["BLIZZARD_OAUTH_URL"] = self.emulator_url + "/oauth"
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start_database(self) -> list[str]:
        created = self.cluster.init()
        self.cluster.start()
        applied = migrate(self.cluster.dsn(), allow_pypi_pgmq=self.config.allow_pypi_pgmq)
        version = pgmq_version(self.cluster.dsn())
        problem = pgmq_problem(version)
        if problem is not None:
            raise SystemExit(f"cannot start: {problem}")
        print(f"pgmq {version if version != 'sql' else '1.13 (PyPI SQL)'}", flush=True)
        print(
            f"postgres {'created and ' if created else ''}running on {self.cluster.dsn()} "
            f"({len(applied)} migrations applied now)",
            flush=True,
        )
        return applied

    def spawn(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        out = None
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            out = (self.config.log_dir / f"{name}.log").open("ab")
        try:
            proc = subprocess.Popen(
                [sys.executable, *args],
                env={**self.env(), **(env or {})},
                cwd=ROOT,
                stdout=out,
                stderr=out,
            )
        finally:
            if out is not None:
                out.close()  # the child keeps its own descriptor
        self.procs[name] = proc
        self.commands[name] = (args, env)
        return proc

    def respawn(self, name: str) -> subprocess.Popen[bytes]:
        """Start a child again with the command it was first started with."""
        args, env = self.commands[name]
        return self.spawn(name, *args, env=env)

    def start_server(
        self, name: str, health_url: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Spawn a server and wait until it answers. A server that exits at once is retried for
        a while: its port may still be held by a closing connection (TIME_WAIT)."""
        deadline = time.monotonic() + PORT_BUSY_TIMEOUT
        while True:
            proc = self.spawn(name, *args, env=env)
            try:
                wait_http(health_url, proc=proc)
                return proc
            except RuntimeError:
                if proc.poll() is None or time.monotonic() > deadline:
                    raise
            print(f"{name} could not start (port busy?); retrying", flush=True)
            time.sleep(2)

    def start_emulator(self) -> None:
        port = str(self.config.emulator_port)
        self.start_server(
            "emulator",
            self.emulator_url + "/_emulator/health",
            "-m",
            "devtools.emulator",
            "--port",
            port,
            *self.config.emulator_args,
        )

    def start_gateway(self) -> None:
        port = str(self.config.gateway_port)
        self.start_server(
            "gateway", self.gateway_url + "/health", "-m", "devtools.gateway", "--port", port
        )

    def start_consumer(self) -> None:
        pause = self.config.consumer_idle_pause
        extra = () if pause is None else ("--idle-pause", str(pause))
        self.spawn(
            "consumer", "-m", "devtools.consumer_loop", "--gateway", self.gateway_url, *extra
        )

    @contextmanager
    def consumers(
        self, count: int, *args: str, **env: str
    ) -> Iterator[list[subprocess.Popen[bytes]]]:
        """`count` worker processes (`consumer_loop --direct`), terminated on exit."""
        procs = [
            self.spawn(f"consumer-{i}", "-m", "devtools.consumer_loop", "--direct", *args, env=env)
            for i in range(count)
        ]
        try:
            yield procs
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)

    def start(self) -> None:
        self.start_database()
        if self.uses_emulator:
            self.start_emulator()
        self.start_gateway()
        if self.config.consumer:
            self.start_consumer()

    def stop(self, *, database: bool = True) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs.clear()
        self.commands.clear()
        if database:
            self.cluster.stop()

    def supervisor(self, log: Callable[[str], None]) -> Supervisor:
        """A supervisor restarting the stack's long-running children when they exit."""
        supervisor = Supervisor(log=log)
        for name in SUPERVISED:
            if name in self.procs:
                supervisor.watch(name, self.procs[name], functools.partial(self.respawn, name))
        return supervisor

    def static_watch(self, log: Callable[[str], None]) -> StaticDataWatch:
        source = DatabaseStaticData(self.env()["DATABASE_URL"])
        return StaticDataWatch(source, self.config.check_interval, log=log)

    def session_signing(self) -> str:
        """What signs this stack's sessions, in words (no key material)."""
        env = self.env()
        if env.get("SUPABASE_JWT_SIGNING_KEY"):
            from shared.auth.keys import parse_signing_key

            key = parse_signing_key(env["SUPABASE_JWT_SIGNING_KEY"])
            return f"{key.algorithm} key {key.kid} (JWKS {env.get('SUPABASE_JWKS_URL', '-')})"
        return "HS256 with SUPABASE_JWT_SECRET (the legacy secret)"

    def service_key(self) -> str:
        """A service credential for this stack's functions: its `sb_secret_` key, or the
        legacy service-role key when its environment gives only SUPABASE_JWT_SECRET."""
        from devtools.local_keys import service_key

        return service_key(self.env(), self.config.keys)


def _already_running(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def _parser() -> argparse.ArgumentParser:
    defaults = StackConfig()
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stack",
        description="The local stack (make run). Arguments after `--` go to the emulator, "
        "e.g. `-- --fault-rate 1` to start it in an outage.",
    )
    parser.add_argument("--root", type=Path, default=defaults.root, help="the cluster's folder")
    parser.add_argument("--db-port", type=int, default=defaults.db_port)
    parser.add_argument("--gateway-port", type=int, default=defaults.gateway_port)
    parser.add_argument("--emulator-port", type=int, default=defaults.emulator_port)
    parser.add_argument("--fast", action="store_true", help="fsync off (throwaway clusters)")
    parser.add_argument(
        "--check-interval",
        type=float,
        default=defaults.check_interval,
        help="seconds between static-data checks (default %(default)s)",
    )
    parser.add_argument(
        "--consumer-idle-pause", type=float, help="the consumer loop's pause on empty queues"
    )
    parser.add_argument(
        "--keys-dir",
        type=Path,
        default=defaults.keys.folder,
        help="where the local signing key and secret key are kept (default %(default)s)",
    )
    parser.add_argument(
        "--no-supabase-cli",
        action="store_true",
        help="make the local signing key in Python, not with the Supabase CLI",
    )
    parser.add_argument("emulator_args", nargs="*", help=argparse.SUPPRESS)
    return parser


def config_from_args(argv: list[str] | None = None) -> StackConfig:
    args = _parser().parse_args(argv)
    if args.check_interval <= 0 or (args.consumer_idle_pause or 0) < 0:
        _parser().error("intervals must be positive")
    return StackConfig(
        root=args.root.resolve(),
        db_port=args.db_port,
        gateway_port=args.gateway_port,
        emulator_port=args.emulator_port,
        fast=args.fast,
        emulator_args=list(args.emulator_args),
        consumer_idle_pause=args.consumer_idle_pause,
        check_interval=args.check_interval,
        allow_pypi_pgmq=True,
        keys=LocalKeys(args.keys_dir.resolve(), use_cli=not args.no_supabase_cli),
    )


def _say(line: str) -> None:
    print(line, flush=True)


def _print_cron_jobs(stack: Stack) -> None:
    try:
        status = httpx.get(
            stack.gateway_url + "/functions/v1/queue-consumer/status",
            headers={"Authorization": f"Bearer {stack.service_key()}"},
            timeout=30,
        ).json()
    except (httpx.HTTPError, ValueError) as exc:
        _say(f"could not read the cron jobs: {exc}")
        return
    _say("cron jobs installed:")
    for job in status.get("cronJobs", []):
        _say(f"  {job['name']:<36} {job['schedule']:<14} active={job['active']}")


def main(argv: list[str] | None = None) -> int:
    stack = Stack(config_from_args(argv))
    pid_file = stack.config.root.parent / "run.pid"
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    other = _already_running(pid_file)
    if other is not None:
        print(
            f"Guild Sync is already running (pid {other}); stop it with Ctrl-C or "
            f"`kill {other}` first.",
            file=sys.stderr,
        )
        return 1
    pid_file.write_text(str(os.getpid()))
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        started = time.monotonic()
        stack.start()
        _print_cron_jobs(stack)
        _say(
            f"\nGuild Sync is up in {time.monotonic() - started:.1f} s\n"
            f"  web page   {stack.gateway_url}/\n"
            f"  functions  {stack.gateway_url}/functions/v1/<name>\n"
            f"  database   {stack.cluster.dsn()}\n"
            + (f"  emulator   {stack.emulator_url}\n" if stack.uses_emulator else "")
            + f"  sessions   {stack.session_signing()}\n"
            "  service key: make service-key\n"
            "Static data syncs in the background; children that exit are restarted.\n"
            "Ctrl-C stops everything."
        )
        supervisor = stack.supervisor(_say)
        watch = stack.static_watch(_say)
        while True:  # only a signal ends it
            supervisor.check()
            watch.tick()
            time.sleep(LOOP_PAUSE)
    except KeyboardInterrupt:
        print("\nstopping Guild Sync ...", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        pid_file.unlink(missing_ok=True)
        print("stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
