"""The login's SQL on the real Postgres: states bound to a browser, single use, purged when
expired; the operator's user lookup; none of it callable by a client role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repository import SqlRepository as Repository
from tests.integration.helpers import login
from tests.integration.test_rls import as_role

SOON = timedelta(minutes=10)


def save(repo: Repository, state: str, browser: str, expires_in: timedelta = SOON) -> None:
    repo.save_oauth_state(state, "verifier", None, "eu", browser, datetime.now(UTC) + expires_in)


def count_states(db: PsycopgDatabase) -> int:
    with db.connection() as conn:
        row = conn.execute("select count(*) as n from oauth_states").fetchone()
    assert row
    return int(row["n"])


def test_a_state_is_consumed_once_by_its_browser(db: PsycopgDatabase) -> None:
    repo = Repository(db)
    save(repo, "s1", "hash-a")
    assert repo.consume_login_state("s1", "hash-b") == {"browserMismatch": True}
    assert repo.consume_login_state("s1", None) == {"browserMismatch": True}
    assert repo.consume_login_state("s1", "hash-a") == {
        "state": "s1",
        "codeVerifier": "verifier",
        "redirectTo": None,
        "region": "eu",
    }
    assert repo.consume_login_state("s1", "hash-a") is None  # single use
    assert count_states(db) == 0  # deleted, not kept marked as used


def test_expired_states_are_purged_at_once(db: PsycopgDatabase) -> None:
    repo = Repository(db)
    save(repo, "old", "h", expires_in=timedelta(seconds=-1))
    save(repo, "new", "h")  # starting a login purges the expired ones
    assert count_states(db) == 1
    save(repo, "old2", "h", expires_in=timedelta(seconds=-1))
    assert repo.consume_login_state("old2", "h") is None
    assert count_states(db) == 1


def test_find_user_id_by_id_or_battlenet_id(db: PsycopgDatabase) -> None:
    repo = Repository(db)
    alice = login(repo, 7)
    assert str(repo.find_user_id(battlenet_id=7)) == alice
    assert str(repo.find_user_id(user_id=alice)) == alice
    assert repo.find_user_id(battlenet_id=8) is None
    assert repo.find_user_id(user_id=alice, battlenet_id=8) is None
    assert repo.find_user_id() is None


@pytest.mark.parametrize(
    "call",
    [
        "select public.find_user_id(p_battlenet_id => 7)",
        "select public.consume_login_state('s', 'h')",
        "select public.save_oauth_state('s', 'v', null, 'us', 'h', now())",
        "select public.purge_login_states()",
    ],
)
@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_clients_cannot_call_the_login_functions(db: PsycopgDatabase, call: str, role: str) -> None:
    alice = login(Repository(db), 7)
    with as_role(db.dsn, role, alice if role == "authenticated" else None) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(call)  # type: ignore[arg-type]


def test_the_old_unbound_consume_is_gone(db: PsycopgDatabase) -> None:
    with db.connection() as conn:
        row = conn.execute("select to_regprocedure('public.consume_oauth_state(text)') as f")
        assert row.fetchone() == {"f": None}
