"""Bring a local database to what a hosted Supabase project is, then apply the schema.

1. As the platform's superuser (`supabase_admin`): `sql/local/`, what a hosted project has before
   its first migration (roles, with `postgres` NOT a superuser; pg_cron; the `auth` schema; no
   default grants in `public`).
2. pgmq as hosted ships it: `create extension pgmq ... version '1.4.4'` (or
   GUILD_SYNC_PGMQ_VERSION, e.g. 1.5.1) run as `postgres`, from the extension files `make
   pgmq-extension` installs. Where they are absent, only `make run` may fall back to the PyPI
   package's SQL (pgmq 1.13, a superset of hosted's), and says so loudly.
3. As `postgres`: every `supabase/migrations/*.sql` not yet recorded in
   `supabase_migrations.schema_migrations`, each in its own transaction, then
   `supabase/seed.sql` when it holds statements (as `supabase db push --include-seed` does).
   The tests push the same files with the real Supabase CLI instead (devtools/supabase_cli.py),
   and a test compares both results.

`python -m devtools.migrate [DSN]` does it by hand.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from devtools.pgcluster import SUPERUSER

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SQL = ROOT / "sql" / "local"
MIGRATIONS = ROOT / "supabase" / "migrations"
SEED = ROOT / "supabase" / "seed.sql"
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
#: pgmq as hosted Supabase creates it: 1.4.4 on Postgres 15 projects, 1.5.1 on Postgres 17.
HOSTED_PGMQ_VERSIONS = ("1.4.4", "1.5.1")
PGMQ_VERSION = os.environ.get("GUILD_SYNC_PGMQ_VERSION", HOSTED_PGMQ_VERSIONS[0])
#: The Supabase CLI's migration history table (what `supabase db push` creates).
HISTORY_DDL = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
  version text not null primary key,
  statements text[],
  name text
);
"""


class MigrationError(RuntimeError):
    pass


def has_statements(sql: str) -> bool:
    """True when `sql` holds anything but comments and whitespace."""
    return any(line.split("--", 1)[0].strip() for line in BLOCK_COMMENT.sub("", sql).splitlines())


def admin_dsn(dsn: str) -> str:
    """The same database as the platform's superuser."""
    params = conninfo_to_dict(dsn)
    params["user"] = SUPERUSER
    params.pop("password", None)
    return make_conninfo(**params)  # type: ignore[arg-type]


def install_pgmq(
    conn: psycopg.Connection, version: str = PGMQ_VERSION, *, allow_pypi_sql: bool = False
) -> str:
    """Create pgmq as `postgres` does on hosted (the dashboard's Queues toggle), at `version`;
    return what is installed ('1.4.4', or 'sql' for the PyPI package's SQL). `conn` is the
    superuser's: it takes the role of `postgres` for the create."""
    row = conn.execute("select extversion from pg_extension where extname = 'pgmq'").fetchone()
    if row is not None:
        return str(row[0])
    if conn.execute("select to_regnamespace('pgmq') is not null").fetchone() == (True,):
        return "sql"  # an earlier fallback install
    available = {
        r[0]
        for r in conn.execute(
            "select version from pg_available_extension_versions where name = 'pgmq'"
        )
    }
    if version in available:
        with conn.transaction():
            conn.execute("set local role postgres")
            conn.execute("create schema if not exists pgmq")
            conn.execute(
                psycopg.sql.SQL("create extension pgmq with schema pgmq version {}").format(
                    psycopg.sql.Literal(version)
                )
            )
        return version
    if not allow_pypi_sql:
        raise MigrationError(
            f"pgmq {version} is not installed as a Postgres extension (found: "
            f"{', '.join(sorted(available)) or 'none'}): run `make pgmq-extension`, which copies "
            "hosted's pgmq from ../shared/platform/pgmq"
        )
    print(
        "WARNING: ../shared/platform/pgmq is absent, so pgmq is installed from the PyPI package's "
        "SQL (pgmq 1.13): this local stack now runs a NEWER pgmq than hosted Supabase (1.4.4 / "
        "1.5.1); what works here may fail there",
        file=sys.stderr,
        flush=True,
    )
    from pgmq.install import install_pgmq_from_sql

    params = conninfo_to_dict(conn.info.dsn)
    params["user"] = "postgres"
    install_pgmq_from_sql(dsn=make_conninfo(**params))  # type: ignore[arg-type]
    return "sql"


def prepare_platform(
    dsn: str, *, pgmq_version: str = PGMQ_VERSION, allow_pypi_pgmq: bool = False
) -> str:
    """Step 1 and 2 of the module's docstring, on the database of `dsn`; returns the pgmq
    version installed."""
    with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
        for file in sorted(LOCAL_SQL.glob("*.sql")):
            with conn.transaction():
                conn.execute(file.read_text())  # type: ignore[arg-type]
        return install_pgmq(conn, pgmq_version, allow_pypi_sql=allow_pypi_pgmq)


def apply_migrations(dsn: str, *, seed: Path | None = SEED, verbose: bool = False) -> list[str]:
    """Step 3, as the role of `dsn` (`postgres`); returns the versions applied now."""
    applied_now: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        with conn.transaction():
            conn.execute(HISTORY_DDL)  # type: ignore[arg-type]
        done = {
            row[0]
            for row in conn.execute("select version from supabase_migrations.schema_migrations")
        }
        for file in sorted(MIGRATIONS.glob("*.sql")):
            version, _, name = file.stem.partition("_")
            if version in done:
                continue
            with conn.transaction():
                conn.execute(file.read_text())  # type: ignore[arg-type]
                conn.execute(
                    "insert into supabase_migrations.schema_migrations (version, name) "
                    "values (%s, %s)",
                    (version, name),
                )
            applied_now.append(version)
            if verbose:
                print(f"applied migration {file.name}", flush=True)
        seed_sql = seed.read_text() if seed is not None and seed.exists() else ""
        if has_statements(seed_sql):
            with conn.transaction():
                conn.execute(seed_sql)  # type: ignore[arg-type]
    return applied_now


def pgmq_version(dsn: str) -> str | None:
    """The pgmq the database at `dsn` runs (public.pgmq_version(), after the migrations)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select public.pgmq_version()").fetchone()
    return None if row is None or row[0] is None else str(row[0])


def migrate(
    dsn: str,
    *,
    seed: Path | None = SEED,
    verbose: bool = False,
    pgmq_version: str = PGMQ_VERSION,
    allow_pypi_pgmq: bool = False,
) -> list[str]:
    """Bring the database at `dsn` up to date (platform, pgmq, migrations, seed); return the
    migration versions applied now."""
    prepare_platform(dsn, pgmq_version=pgmq_version, allow_pypi_pgmq=allow_pypi_pgmq)
    return apply_migrations(dsn, seed=seed, verbose=verbose)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:54322/postgres"
    print(f"{len(migrate(target, verbose=True))} migrations applied")
