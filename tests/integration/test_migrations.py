"""The schema applies from zero, twice without harm, and gives what the design names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from devtools.migrate import MIGRATIONS, migrate
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
