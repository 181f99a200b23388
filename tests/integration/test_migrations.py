"""The schema applies from zero, twice without harm, and gives what the design names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devtools.migrate import MIGRATIONS, SEED, has_statements, migrate
from devtools.pgcluster import Cluster


@pytest.fixture
def scratch_dsn(cluster: Cluster) -> Iterator[str]:
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')  # type: ignore[arg-type]
    yield cluster.dsn(name)
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'drop database "{name}" with (force)')  # type: ignore[arg-type]


def test_migrations_apply_from_zero_and_again(scratch_dsn: str) -> None:
    database = scratch_dsn.rsplit("/", 1)[1]
    with psycopg.connect(scratch_dsn, autocommit=True) as conn:  # the old home of the key
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
    with psycopg.connect(scratch_dsn) as conn:  # a new session sees the database's settings
        assert conn.execute("select current_setting('app.service_role_key', true)").fetchone() in (
            (None,),
            ("",),
        )


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
