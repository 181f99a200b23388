"""The real Supabase CLI (npm `supabase`, pinned exactly in devtools/supabase-cli/, installed by
`make supabase-cli`), driven as an operator would against a hosted project: `db push` applies
`supabase/migrations` and `seed.sql` as `postgres` (each file split into statements by the CLI's
own parser, recorded in `supabase_migrations.schema_migrations`), and `db lint` runs
plpgsql_check over the functions. No Docker is needed for either with `--db-url`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "devtools" / "supabase-cli" / "node_modules" / ".bin" / "supabase"
TIMEOUT = 300


class SupabaseCLIError(RuntimeError):
    pass


def db_url(dsn: str) -> str:
    """The CLI's --db-url for a local DSN: a password (ignored by trust auth; the CLI insists
    on one) and no TLS."""
    params = conninfo_to_dict(dsn)
    user = params.get("user", "postgres")
    password = params.get("password") or "postgres"
    host = params.get("host", "127.0.0.1")
    port = params.get("port", "5432")
    name = params.get("dbname", "postgres")
    return f"postgresql://{user}:{password}@{host}:{port}/{name}?sslmode=disable"


def run(*args: str, workdir: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The CLI reads `supabase/config.toml`, whose `[auth] signing_keys_path` names the local
    signing key: it refuses to run while that file is missing, so it is made first."""
    from devtools.local_keys import LocalKeys

    LocalKeys().signing_key()
    if not CLI.exists():
        raise SupabaseCLIError(f"no Supabase CLI at {CLI}: run `make supabase-cli`")
    try:
        return subprocess.run(
            [str(CLI), *args, "--workdir", str(workdir)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise SupabaseCLIError(f"supabase {' '.join(args[:2])} took over {TIMEOUT} s") from exc


def db_push(dsn: str, *, include_seed: bool = True, workdir: Path = ROOT) -> str:
    """`supabase db push --db-url ... [--include-seed] --yes`; its output. Raises on failure."""
    args = ["db", "push", "--db-url", db_url(dsn), "--yes"]
    if include_seed:
        args.append("--include-seed")
    done = run(*args, workdir=workdir)
    if done.returncode != 0:
        raise SupabaseCLIError(f"supabase db push failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def db_lint(dsn: str, *, schemas: tuple[str, ...] = ("public",), level: str = "error") -> Any:
    """`supabase db lint --level LEVEL` over `schemas`: the issues plpgsql_check reports, as
    the CLI prints them (JSON: [{function, issues: [{level, message, ...}]}])."""
    args = ["db", "lint", "--db-url", db_url(dsn), "--level", level]
    for schema in schemas:
        args += ["--schema", schema]
    done = run(*args)
    if done.returncode != 0:
        raise SupabaseCLIError(f"supabase db lint failed:\n{done.stdout}\n{done.stderr}")
    text = done.stdout.strip()
    return json.loads(text) if text.startswith("[") else []
