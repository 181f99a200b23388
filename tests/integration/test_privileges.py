"""What the API roles can reach, checked over the whole schema rather than a list, so a table,
function or policy added by a later migration is held to the same rules.

As on hosted Supabase since 2026-10-30, nothing postgres creates in public is granted to the API
roles by default (sql/local/ sets no default privileges): every grant the service role or a
client needs is written in a migration, and RLS and explicit revokes keep clients out."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from devtools.pgcluster import Cluster

CLIENT_ROLES = ("anon", "authenticated")
# Functions a client (anon or authenticated, through PostgREST) may call. None today: the
# frontend talks to the functions over HTTP and reads its own rows under RLS. Adding one here
# is a decision: the function must check auth.uid() itself.
CLIENT_FUNCTIONS: frozenset[str] = frozenset()
# Schemas whose functions the Data API could reach if exposed; pgmq_public is not exposed
# ([api] schemas in supabase/config.toml) but Supabase's queue toggle would expose it.
API_SCHEMAS = ("public", "pgmq_public")

CLIENT_EXECUTABLE = """
select p.oid::regprocedure::text as function, r.role
from pg_proc p
cross join unnest(%(roles)s::text[]) as r(role)
where p.pronamespace = any (%(schemas)s::regnamespace[])
  and has_function_privilege(r.role, p.oid, 'execute')
  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass
                  and d.objid = p.oid and d.deptype = 'e')
order by 1, 2
"""

DEFINER_WITHOUT_SEARCH_PATH = """
select p.oid::regprocedure::text as function
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where p.prosecdef
  and n.nspname not in ('pg_catalog', 'information_schema', 'pgmq', 'cron')
  and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c
                  where c like 'search_path=%%')
order by 1
"""

TABLES_WITHOUT_RLS = """
select c.relname as "table" from pg_class c
where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
  and not c.relrowsecurity
order by 1
"""

CLIENT_TABLE_PRIVILEGES = """
select c.relname as "table", r.role, p.privilege
from pg_class c
cross join unnest(%(roles)s::text[]) as r(role)
cross join unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'])
  as p(privilege)
where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
  and has_table_privilege(r.role, c.oid, p.privilege)
order by 1, 2, 3
"""

POLICIES = """
select schemaname || '.' || tablename || ' ' || policyname as policy,
       coalesce(qual, '') || ' ' || coalesce(with_check, '') as expression
from pg_policies where schemaname in ('public', 'realtime')
order by 1
"""

# How Postgres prints `(select auth.uid())` back: once per statement, not once per row.
WRAPPED_AUTH_CALL = re.compile(r"\( SELECT auth\.(uid|jwt|role)\(\) AS \w+\)")


def fetch(conn: psycopg.Connection[Any], sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


@pytest.fixture
def conn(cluster: Cluster) -> Any:
    with psycopg.connect(cluster.dsn()) as conn:
        yield conn


def client_executable(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    found = fetch(conn, CLIENT_EXECUTABLE, roles=list(CLIENT_ROLES), schemas=list(API_SCHEMAS))
    return [row for row in found if row[0] not in CLIENT_FUNCTIONS]


def test_no_function_is_executable_by_clients_unless_allowed(
    conn: psycopg.Connection[Any],
) -> None:
    assert client_executable(conn) == []


def test_every_security_definer_function_has_a_fixed_search_path(
    conn: psycopg.Connection[Any],
) -> None:
    assert fetch(conn, DEFINER_WITHOUT_SEARCH_PATH) == []


def test_every_public_table_has_rls(conn: psycopg.Connection[Any]) -> None:
    assert fetch(conn, TABLES_WITHOUT_RLS) == []


def test_clients_hold_no_write_privilege_on_any_table(conn: psycopg.Connection[Any]) -> None:
    """Writes go through the service role; TRUNCATE would even bypass RLS."""
    assert fetch(conn, CLIENT_TABLE_PRIVILEGES, roles=list(CLIENT_ROLES)) == []


def test_policies_call_auth_functions_once_per_statement(
    conn: psycopg.Connection[Any],
) -> None:
    policies = fetch(conn, POLICIES)
    assert policies, "no policies found"
    per_row = [
        name for name, expression in policies if "auth." in WRAPPED_AUTH_CALL.sub("", expression)
    ]
    assert per_row == []


SERVICE_ROLE_MISSING_TABLES = """
select c.relname as "table" from pg_class c
where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v')
  and not has_table_privilege('service_role', c.oid, 'select, insert, update, delete')
order by 1
"""

SERVICE_ROLE_MISSING_FUNCTIONS = """
select p.oid::regprocedure::text as function from pg_proc p
where p.pronamespace = 'public'::regnamespace
  and not has_function_privilege('service_role', p.oid, 'execute')
  and p.proname not in ('grant_to_service_role_only', 'install_realtime_sync_policy',
                        'define_queue_claim')
order by 1
"""

# Tables with a policy for a role must be readable by that role: a policy without the grant
# lets nobody read.
POLICY_WITHOUT_GRANT = """
select p.tablename as "table", r.role
from pg_policies p cross join unnest(p.roles) as r(role)
where p.schemaname = 'public' and p.cmd in ('SELECT', 'ALL')
  and not has_table_privilege(r.role::text, format('public.%%I', p.tablename), 'select')
order by 1, 2
"""


def test_the_service_role_may_use_every_table_and_function(
    conn: psycopg.Connection[Any],
) -> None:
    """PostgREST (the supabase-py adapter) reaches the database as service_role: the grants
    are the migrations' own, since no default privileges exist."""
    assert fetch(conn, SERVICE_ROLE_MISSING_TABLES) == []
    assert fetch(conn, SERVICE_ROLE_MISSING_FUNCTIONS) == []


def test_every_client_policy_has_its_grant(conn: psycopg.Connection[Any]) -> None:
    assert fetch(conn, POLICY_WITHOUT_GRANT) == []
    readable = {r[0] for r in fetch(conn, "select tablename from pg_policies "
                                          "where schemaname = 'public'")}  # fmt: skip
    assert {"characters", "character_sync_sessions", "wow_realms"} <= readable


def test_the_checks_catch_a_careless_migration(conn: psycopg.Connection[Any]) -> None:
    """What a later migration gets by default (hosted Supabase's grants) fails every check;
    all of it is rolled back."""
    conn.execute(
        "create table public.careless (id int primary key, user_id uuid);"
        "create function public.careless_definer() returns int language sql security definer "
        "as $$ select 1 $$;"
        "grant all on public.careless to authenticated;"
        "alter table public.careless enable row level security;"
        "create policy careless_own on public.careless for select to authenticated "
        "using (user_id = auth.uid());"
        "alter table public.careless disable row level security;"
    )
    try:
        assert ("careless_definer()", "anon") in client_executable(conn)
        assert fetch(conn, DEFINER_WITHOUT_SEARCH_PATH) == [("careless_definer()",)]
        assert fetch(conn, TABLES_WITHOUT_RLS) == [("careless",)]
        assert ("careless", "authenticated", "TRUNCATE") in fetch(
            conn, CLIENT_TABLE_PRIVILEGES, roles=list(CLIENT_ROLES)
        )
        assert ("careless",) in fetch(conn, SERVICE_ROLE_MISSING_TABLES)
        conn.execute("revoke select on public.careless from authenticated")
        assert ("careless", "authenticated") in fetch(conn, POLICY_WITHOUT_GRANT)
        expressions = dict(fetch(conn, POLICIES))
        careless = expressions["public.careless careless_own"]
        assert "auth." in WRAPPED_AUTH_CALL.sub("", careless)
    finally:
        conn.rollback()
