"""A pgbouncer in `pool_mode = transaction` in front of a project cluster: what Supabase's
transaction pooler (port 6543) does to a client, run locally (the tests go through it once
more with GUILD_SYNC_TEST_POOLER=1).

pgbouncer refuses to run as root: as root it runs as the `postgres` user. Its config and log
live under `root`; it runs in the foreground as our child and stops with SIGTERM (bounded).
Startup parameters are not ignored beyond what drivers send by habit, so a client passing
`options` is refused here as by a real pooler.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

PGBOUNCER = os.environ.get("PGBOUNCER", shutil.which("pgbouncer") or "/usr/sbin/pgbouncer")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class PoolerError(RuntimeError):
    pass


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Pooler:
    root: Path
    port: int
    db_port: int
    pool_size: int = 20
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()

    @property
    def config_file(self) -> Path:
        return self.root / "pgbouncer.ini"

    @property
    def log_file(self) -> Path:
        return self.root / "pgbouncer.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "pgbouncer.pid"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        users = self.root / "userlist.txt"
        users.write_text('"postgres" ""\n')
        self.config_file.write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host=127.0.0.1 port={self.db_port}",
                    "",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {users}",
                    "pool_mode = transaction",
                    f"default_pool_size = {self.pool_size}",
                    "max_client_conn = 1000",
                    "ignore_startup_parameters = extra_float_digits",
                    f"pidfile = {self.pid_file}",
                    "server_login_retry = 1",
                    "log_connections = 0",
                    "log_disconnections = 0",
                    "",
                ]
            )
        )
        for path in (self.root, users, self.config_file):
            path.chmod(0o755 if path.is_dir() else 0o644)
        if os.geteuid() == 0:  # pgbouncer runs as postgres and writes its pid file here
            shutil.chown(self.root, "postgres", "postgres")

    def stop_stale(self) -> None:
        """End a pgbouncer that an earlier, killed run of ours left on this config (found by
        its pid file and command line), so the port is ours again."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if str(self.config_file).encode() not in cmdline:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    def start(self) -> None:
        if not Path(PGBOUNCER).exists():
            raise PoolerError(f"pgbouncer not found ({PGBOUNCER}): apt-get install pgbouncer")
        self.stop_stale()
        if _listening(self.port):
            raise PoolerError(
                f"port {self.port} is already in use (a pgbouncer left running?): "
                "stop it or choose another TEST_POOLER_PORT"
            )
        self.write_config()
        as_root = os.geteuid() == 0
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(
                [PGBOUNCER, str(self.config_file)],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                user="postgres" if as_root else None,
                group="postgres" if as_root else None,
                extra_groups=[] if as_root else None,
            )
        self.wait_ready()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-1500:]
                raise PoolerError(f"pgbouncer exited with {self.proc.returncode}:\n{tail}")
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2, prepare_threshold=None) as conn:
                    conn.execute("select 1")
            except psycopg.OperationalError:
                time.sleep(0.1)
                continue
            if self.proc is None or self.proc.poll() is None:
                return
        raise PoolerError(f"pgbouncer on port {self.port} not ready after {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
