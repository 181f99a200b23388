"""Apply the database schema: pgmq's SQL where the pgmq schema is absent, `sql/local/` (what
plain Postgres lacks of Supabase), then every `supabase/migrations/*.sql` not yet recorded in
`supabase_migrations.schema_migrations`, each in its own transaction, then `supabase/seed.sql`
when it holds statements (as `supabase db reset` does; it is written to be run again).

`python -m devtools.migrate [DSN]` does it by hand.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SQL = ROOT / "sql" / "local"
MIGRATIONS = ROOT / "supabase" / "migrations"
SEED = ROOT / "supabase" / "seed.sql"
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def has_statements(sql: str) -> bool:
    """True when `sql` holds anything but comments and whitespace."""
    return any(line.split("--", 1)[0].strip() for line in BLOCK_COMMENT.sub("", sql).splitlines())


def install_pgmq(conn: psycopg.Connection) -> bool:
    """Install pgmq from the SQL the `pgmq` package ships (no pg_extension row, as on a
    machine without the extension package); skipped when the schema exists."""
    if conn.execute("select to_regnamespace('pgmq') is not null").fetchone() == (True,):
        return False
    from pgmq.install import install_pgmq_from_sql

    install_pgmq_from_sql(dsn=conn.info.dsn)
    return True


def migrate(dsn: str, *, seed: Path | None = SEED, verbose: bool = False) -> list[str]:
    """Bring the database at `dsn` up to date, then apply `seed` (if it has statements);
    return the migration versions applied now."""
    applied_now: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        install_pgmq(conn)
        for file in sorted(LOCAL_SQL.glob("*.sql")):
            with conn.transaction():
                conn.execute(file.read_text())  # type: ignore[arg-type]
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


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:54322/postgres"
    print(f"{len(migrate(target, verbose=True))} migrations applied")
