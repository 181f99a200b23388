"""A project-owned PostgreSQL 15 cluster under `.local/` with pg_cron preloaded, shaped like
a hosted Supabase project: its superuser is `supabase_admin`, and `postgres`, the role the
code and the migrations use, is not a superuser (devtools/migrate.py and `sql/local/` make it
so).

initdb refuses root: as root every server command runs as the `postgres` OS user (runuser),
and the cluster's folders belong to it. Used by `make run` and by the test suite (its own
cluster and port, so both can run side by side).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_LIB = Path(os.environ.get("PG_LIB", "/usr/lib/postgresql/15/lib"))
START_TIMEOUT = 30
PORT_BUSY_TIMEOUT = 90
#: The platform's superuser, as on hosted Supabase; `postgres` is demoted (sql/local/).
SUPERUSER = "supabase_admin"


class ClusterError(RuntimeError):
    pass


@dataclass
class Cluster:
    root: Path
    port: int
    fast: bool = False  # fsync off etc.: for throwaway test clusters

    def __post_init__(self) -> None:
        self.root = self.root.resolve()

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        """As `postgres` (not a superuser): what the code, the migrations and tests use."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def admin_dsn(self, dbname: str = "postgres") -> str:
        """As the platform's superuser: for what only the platform does (sql/local/)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def has_platform_superuser(self) -> bool:
        """False for a cluster made before the hosted shape (its superuser is `postgres`)."""
        result = self._run(
            str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER,
            "-d", "postgres", "-Atc", "select 1",
        )  # fmt: skip
        return result.returncode == 0

    # --- commands ------------------------------------------------------------------------

    def _as_owner(self, *args: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._as_owner(*args), capture_output=True, text=True, check=False)

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def check_binaries(self) -> None:
        if not (PG_BIN / "postgres").exists():
            raise ClusterError(
                f"PostgreSQL 15 not found in {PG_BIN}: apt-get install postgresql-15"
            )
        if not (PG_LIB / "pg_cron.so").exists():
            raise ClusterError("pg_cron is not installed: apt-get install postgresql-15-cron")

    def init(self) -> bool:
        """Create the cluster if it does not exist; True when it was created."""
        self.check_binaries()
        if (self.data / "PG_VERSION").exists():
            return False
        for path in (self.root, self.data, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            self._chown(path)
        self.log_file.touch()
        self._chown(self.log_file)
        result = self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stderr.strip()}")
        settings = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.socket_dir}'",
            "shared_preload_libraries = 'pg_cron'",
            "cron.database_name = 'postgres'",
            "max_connections = 200",
            "log_min_messages = warning",
        ]
        if self.fast:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# guild-sync\n" + "\n".join(settings) + "\n")
        return True

    def is_running(self) -> bool:
        result = self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status")
        return result.returncode == 0

    def start(self) -> None:
        """Start the server. Our ports lie in Linux's ephemeral range, so a client socket can
        hold ours for a while (TIME_WAIT lasts a minute): then wait for it, bounded."""
        if self.is_running():
            return
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.socket_dir)
        deadline = time.monotonic() + PORT_BUSY_TIMEOUT
        while True:
            logged = self.log_file.stat().st_size if self.log_file.exists() else 0
            result = self._run(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_file),
                "-o", f"-p {self.port}", "-w", "-t", str(START_TIMEOUT), "start",
            )  # fmt: skip
            if result.returncode == 0:
                break
            with self.log_file.open(errors="replace") as log:
                log.seek(logged)
                tail = log.read()[-2000:]
            if "Address already in use" not in tail or time.monotonic() > deadline:
                raise ClusterError(f"postgres did not start: {result.stderr.strip()}\n{tail}")
            print(f"port {self.port} is busy (a closing connection?); retrying", flush=True)
            time.sleep(2)
        self.wait_ready()
        if not self.has_platform_superuser():
            self._replace_old_cluster()

    def _replace_old_cluster(self) -> None:
        """A cluster made before the hosted shape (`postgres` its superuser): a throwaway test
        cluster is made anew; a stack's own data is never deleted without being asked."""
        if not self.fast:
            raise ClusterError(
                f"{self.root} was made by an older Guild Sync, with `postgres` as its superuser; "
                f"the database is now shaped like hosted Supabase: remove {self.root} "
                "(rm -rf it) and start again"
            )
        print(f"{self.root}: made before the hosted shape; creating it anew", flush=True)
        self.stop("immediate")
        shutil.rmtree(self.root)
        self.init()
        self.start()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self._run(str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port))
            if result.returncode == 0:
                return
            time.sleep(0.1)
        raise ClusterError(f"postgres on port {self.port} not ready after {timeout:.0f} s")

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-m",
            "fast",
            "-w",
            "restart",
            "-l",
            str(self.log_file),
            "-o",
            f"-p {self.port}",
        )
        self.wait_ready()
