"""Row-level security, checked in Postgres as the API roles with request.jwt.claims."""

from __future__ import annotations

import psycopg
import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from tests.integration.helpers import as_role, char, count, login, start


@pytest.fixture
def two_users(db: PsycopgDatabase) -> tuple[str, str]:
    repo = Repositories.over(db)
    alice, bob = login(repo, 1), login(repo, 2)
    for user, ids in ((alice, [1, 2]), (bob, [3])):
        result = start(repo, user, [char(i, f"C{i}") for i in ids])
        for c in result["characters"]:
            repo.sessions.start_character_item(result["sessionId"], c["id"])
            repo.sessions.record_character_result(
                result["sessionId"],
                c["id"],
                "completed",
                None,
                {
                    "guild": {
                        "blizzard_id": 77,
                        "name": "Shared",
                        "slug": "shared",
                        "realm_id": 1,
                        "realm_slug": "area-52",
                    }
                },
            )
    return alice, bob


def test_a_user_reads_only_their_own_rows(db: PsycopgDatabase, two_users: tuple[str, str]) -> None:
    alice, bob = two_users
    with as_role(db.dsn, "authenticated", alice) as conn:
        assert count(conn, "users") == 1
        assert count(conn, "characters") == 2
        assert count(conn, "character_sync_sessions") == 1
        assert count(conn, "character_sync_items") == 2
        assert count(conn, "guilds") == 1  # the guild their characters are in
        assert count(conn, "sync_events") > 0
        assert count(conn, "wow_realms") == 0  # public, merely empty here
    with as_role(db.dsn, "authenticated", bob) as conn:
        assert count(conn, "characters") == 1
        own = conn.execute("select user_id::text from characters").fetchone()
        assert own == (bob,)


@pytest.mark.parametrize("table", ["battlenet_tokens", "oauth_states"])
@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_no_client_role_reads_secrets(
    db: PsycopgDatabase, two_users: tuple[str, str], table: str, role: str
) -> None:
    alice, _ = two_users
    with as_role(db.dsn, role, alice if role == "authenticated" else None) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select * from {table}")  # type: ignore[arg-type]


def test_anon_reads_no_user_data(db: PsycopgDatabase, two_users: tuple[str, str]) -> None:
    with as_role(db.dsn, "anon") as conn:
        for table in ("users", "characters", "character_sync_sessions"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {table}")  # type: ignore[arg-type]
            conn.rollback()
            conn.execute("set local role anon")


def test_clients_cannot_write_or_call_sync_functions(
    db: PsycopgDatabase, two_users: tuple[str, str]
) -> None:
    alice, _ = two_users
    with as_role(db.dsn, "authenticated", alice) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update characters set name = 'x'")
    with as_role(db.dsn, "authenticated", alice) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select public.get_user_token(%s::uuid)", (alice,))
