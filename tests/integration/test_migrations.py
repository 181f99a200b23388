"""The schema applies from zero, twice without harm, and gives what the design names, on a
database shaped like a hosted Supabase project; the Supabase CLI's `db push` and the local runner
give the same schema; `supabase db lint` (plpgsql_check) finds no error."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devtools.migrate import (
    MIGRATIONS,
    PGMQ_VERSION,
    SEED,
    has_statements,
    migrate,
    prepare_platform,
)
from devtools.pgcluster import PG_BIN, Cluster
from devtools.supabase_cli import db_lint, db_push


def scratch_database(cluster: Cluster) -> Iterator[str]:
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:  # postgres has CREATEDB
        conn.execute(f'create database "{name}"')  # type: ignore[arg-type]
    yield cluster.dsn(name)
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'drop database "{name}" with (force)')  # type: ignore[arg-type]


scratch_dsn = pytest.fixture(scratch_database)
other_scratch_dsn = pytest.fixture(scratch_database)


def test_migrations_apply_from_zero_and_again(cluster: Cluster, scratch_dsn: str) -> None:
    database = scratch_dsn.rsplit("/", 1)[1]
    # The old home of the key, set by someone who could (postgres cannot set app.* settings):
    # the migration tries to reset it and warns when it may not.
    with psycopg.connect(cluster.admin_dsn(database), autocommit=True) as conn:
        conn.execute(f"alter database \"{database}\" set app.service_role_key = 'leaked'")  # type: ignore[arg-type]
    applied = migrate(scratch_dsn)
    assert applied == sorted(p.stem.split("_")[0] for p in MIGRATIONS.glob("*.sql"))
    assert migrate(scratch_dsn) == []
    with psycopg.connect(scratch_dsn) as conn:
        tables = {
            r[0]
            for r in conn.execute("select tablename from pg_tables where schemaname = 'public'")
        }
        assert {"wow_classes", "wow_races", "wow_realms"} <= tables
        wrappers = {
            r[0]
            for r in conn.execute(
                "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
                "where n.nspname = 'pgmq_public'"
            )
        }
        assert {"send", "send_batch", "read", "pop", "archive", "delete"} <= wrappers


def test_the_database_is_shaped_like_a_hosted_project(cluster: Cluster) -> None:
    with psycopg.connect(cluster.dsn()) as conn:
        role = conn.execute(
            "select rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication "
            "from pg_roles where rolname = current_user"
        ).fetchone()
        assert role == (False, True, True, True, True)
        member_of = {
            r[0]
            for r in conn.execute(
                "select b.rolname from pg_auth_members m join pg_roles b on b.oid = m.roleid "
                "where m.member = 'postgres'::regrole"
            )
        }
        assert {"pg_monitor", "pg_read_all_data", "pg_signal_backend"} <= member_of
        assert conn.execute(
            "select extversion, extowner::regrole::text from pg_extension where extname = 'pgmq'"
        ).fetchone() == (PGMQ_VERSION, "postgres")
        owners = dict(
            conn.execute(
                "select nspname, nspowner::regrole::text from pg_namespace "
                "where nspname in ('auth', 'realtime', 'vault', 'cron')"
            ).fetchall()
        )
        assert owners == {
            "auth": "supabase_auth_admin",
            "realtime": "supabase_realtime_admin",
            "vault": "supabase_admin",
            "cron": "supabase_admin",
        }
        # no default privileges hand what postgres creates in public to the API roles
        assert conn.execute(
            "select count(*) from pg_default_acl where defaclnamespace = 'public'::regnamespace"
        ).fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create extension if not exists pg_stat_statements")


def schema_dump(cluster: Cluster, dsn: str) -> str:
    """Functions, tables, policies and grants of the database, as pg_dump prints them (the
    migration history aside)."""
    database = dsn.rsplit("/", 1)[1]
    done = subprocess.run(
        [str(PG_BIN / "pg_dump"), "--schema-only", "--exclude-schema=supabase_migrations",
         "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "supabase_admin", database],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    # pg_dump's per-run \restrict key aside
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith("\\"))


def test_the_supabase_cli_and_the_local_runner_give_the_same_schema(
    cluster: Cluster, scratch_dsn: str, other_scratch_dsn: str
) -> None:
    migrate(scratch_dsn)
    prepare_platform(other_scratch_dsn)
    out = db_push(other_scratch_dsn)
    assert "Finished supabase db push" in out
    with psycopg.connect(other_scratch_dsn) as conn:
        pushed = conn.execute("select count(*) from supabase_migrations.schema_migrations")
        assert pushed.fetchone() == (len(list(MIGRATIONS.glob("*.sql"))),)
    ours, theirs = schema_dump(cluster, scratch_dsn), schema_dump(cluster, other_scratch_dsn)
    assert "CREATE FUNCTION public.queue_claim" in ours
    assert ours == theirs


def test_supabase_db_lint_finds_no_error(cluster: Cluster) -> None:
    """plpgsql_check over every schema the project writes functions in."""
    assert db_lint(cluster.dsn(), schemas=("public", "pgmq_public")) == []


def test_supabase_db_lint_sees_an_error(scratch_dsn: str) -> None:
    """The lint can fail: a record read before it is assigned (the error it found before)."""
    migrate(scratch_dsn)
    with psycopg.connect(scratch_dsn) as conn:
        conn.execute(
            "create function public.careless() returns text language plpgsql as $$ "
            "declare r record; begin return r.x; end $$"
        )
    issues = db_lint(scratch_dsn)
    found = [(f["function"], i["message"]) for f in issues for i in f["issues"]]
    assert ("public.careless", 'record "r" is not assigned yet') in found


def test_the_seed_runs_after_the_migrations_when_it_has_statements(
    scratch_dsn: str, tmp_path: Path
) -> None:
    seed = tmp_path / "seed.sql"
    seed.write_text(
        "-- idempotent, as the Supabase CLI's seed.sql must be here\n"
        "insert into public.wow_classes (flavor, id, name) values ('retail', 1, 'Warrior')\n"
        "on conflict do nothing;\n"
    )
    migrate(scratch_dsn, seed=seed)
    migrate(scratch_dsn, seed=seed)
    with psycopg.connect(scratch_dsn) as conn:
        assert conn.execute("select name from wow_classes").fetchall() == [("Warrior",)]


def test_the_projects_seed_applies(scratch_dsn: str) -> None:
    assert SEED.exists()
    migrate(scratch_dsn, seed=SEED)  # whatever it holds, it applies on a fresh database
    migrate(scratch_dsn, seed=SEED)  # and again


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("", False),
        ("-- only a comment\n\n   -- and another\n", False),
        ("/* a block\n comment */\n-- and a line\n", False),
        ("select 1;", True),
        ("-- a comment\ninsert into t values (1); -- trailing\n", True),
        ("/* a */ select 1", True),
    ],
)
def test_has_statements(sql: str, expected: bool) -> None:
    assert has_statements(sql) is expected


def test_pg_cron_and_pgmq_are_live(cluster: Cluster) -> None:
    with psycopg.connect(cluster.dsn()) as conn:
        assert conn.execute(
            "select count(*) from pg_extension where extname = 'pg_cron'"
        ).fetchone() == (1,)
        assert conn.execute("show shared_preload_libraries").fetchone() == ("pg_cron",)
        assert conn.execute("select to_regnamespace('pgmq') is not null").fetchone() == (True,)


def test_supabase_roles_and_auth_helpers(cluster: Cluster) -> None:
    with psycopg.connect(cluster.dsn()) as conn:
        roles = {r[0] for r in conn.execute("select rolname from pg_roles")}
        assert {"anon", "authenticated", "service_role"} <= roles
        user_id = uuid.uuid4()
        conn.execute(
            "select set_config('request.jwt.claims', %s, true)",
            (f'{{"sub": "{user_id}", "role": "authenticated"}}',),
        )
        assert conn.execute("select auth.uid(), auth.role()").fetchone() == (
            user_id,
            "authenticated",
        )
