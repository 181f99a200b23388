"""The login's SQL on the real Postgres: states bound to a browser, single use, purged when
expired; the operator's user lookup; none of it callable by a client role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from shared.db.users import BrowserMismatch, LoginState
from tests.integration.helpers import as_role, login

SOON = timedelta(minutes=10)


def save(repo: Repositories, state: str, browser: str, expires_in: timedelta = SOON) -> None:
    repo.users.save_oauth_state(
        state, "verifier", None, "eu", browser, datetime.now(UTC) + expires_in
    )


def count_states(db: PsycopgDatabase) -> int:
    with db.connection() as conn:
        row = conn.execute("select count(*) as n from oauth_states").fetchone()
    assert row
    return int(row["n"])


def test_a_state_is_consumed_once_by_its_browser(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    save(repo, "s1", "hash-a")
    assert repo.users.consume_login_state("s1", "hash-b") == BrowserMismatch()
    assert repo.users.consume_login_state("s1", None) == BrowserMismatch()
    assert repo.users.consume_login_state("s1", "hash-a") == LoginState("eu", "verifier", None)
    assert repo.users.consume_login_state("s1", "hash-a") is None  # single use
    assert count_states(db) == 0  # deleted, not kept marked as used


def test_expired_states_are_not_found_and_pruned_by_expiry_in_batches(
    db: PsycopgDatabase,
) -> None:
    repo = Repositories.over(db)
    for n in range(5):
        save(repo, f"old{n}", "h", expires_in=timedelta(seconds=-1))
    save(repo, "new", "h")
    assert count_states(db) == 6  # starting a login cleans nothing
    assert repo.users.consume_login_state("old0", "h") is None  # expired: not found
    with db.connection() as conn:
        first = conn.execute("select public.prune_oauth_states(2, 2) as n").fetchone()
        assert first == {"n": 4}  # two batches of two, then it stops
        rest = conn.execute("select public.prune_oauth_states(2, 2) as n").fetchone()
        assert rest == {"n": 1}
    assert count_states(db) == 1 and repo.users.consume_login_state("new", "h") is not None


def test_pruning_uses_the_expiry_index(db: PsycopgDatabase) -> None:
    with db.connection() as conn:
        conn.execute(
            "insert into oauth_states (state, code_verifier, region, expires_at) "
            "select 's' || g, 'v', 'us', now() + interval '10 minutes' "
            "from generate_series(1, 20000) g"
        )
        conn.execute("analyze oauth_states")
        plan = conn.execute(
            "explain select state from oauth_states where expires_at <= now() "
            "order by expires_at limit 5000"
        ).fetchall()
    text = "\n".join(str(next(iter(r.values()))) for r in plan)
    assert "oauth_states_expires_at" in text and "Seq Scan" not in text


def test_login_starts_are_counted_per_address_and_minute(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    assert [repo.limits.login_start_take("10.0.0.1", 3).ok for _ in range(4)] == [True] * 3 + [
        False
    ]
    refused = repo.limits.login_start_take("10.0.0.1", 3)
    assert not refused.ok and 1 <= refused.retry_after <= 60
    assert repo.limits.login_start_take("10.0.0.2", 3).ok  # another address
    with db.connection() as conn:
        rows = conn.execute("select address, starts from login_starts order by address")
        assert rows.fetchall() == [
            {"address": "10.0.0.1", "starts": 3},  # refusals are not written
            {"address": "10.0.0.2", "starts": 1},
        ]
        conn.execute("update login_starts set minute = minute - interval '2 minutes'")
        assert conn.execute("select public.prune_oauth_states() as n").fetchone() == {"n": 2}
    assert repo.limits.login_start_take("10.0.0.1", 3).ok  # a new minute


def test_the_prune_job_is_scheduled_and_the_old_one_gone(db: PsycopgDatabase) -> None:
    with db.connection() as conn:
        jobs = {
            r["jobname"]: r for r in conn.execute("select jobname, schedule, command from cron.job")
        }
    assert "guild-sync-purge-login-states" not in jobs
    job = jobs["guild-sync-prune-limits"]
    assert job["schedule"] == "* * * * *"
    assert "prune_oauth_states()" in job["command"] and "prune_usage_limits()" in job["command"]


def test_find_user_id_by_id_or_battlenet_id(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    alice = login(repo, 7)
    assert str(repo.users.find_user_id(battlenet_id=7)) == alice
    assert str(repo.users.find_user_id(user_id=alice)) == alice
    assert repo.users.find_user_id(battlenet_id=8) is None
    assert repo.users.find_user_id(user_id=alice, battlenet_id=8) is None
    assert repo.users.find_user_id() is None


@pytest.mark.parametrize(
    "call",
    [
        "select public.find_user_id(p_battlenet_id => 7)",
        "select public.consume_login_state('s', 'h')",
        "select public.save_oauth_state('s', 'v', null, 'us', 'h', now())",
        "select public.prune_oauth_states()",
        "select public.prune_usage_limits()",
        "select public.login_start_take('a', 1)",
    ],
)
@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_clients_cannot_call_the_login_functions(db: PsycopgDatabase, call: str, role: str) -> None:
    alice = login(Repositories.over(db), 7)
    with as_role(db.dsn, role, alice if role == "authenticated" else None) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(call)  # type: ignore[arg-type]


def test_the_old_unbound_consume_is_gone(db: PsycopgDatabase) -> None:
    with db.connection() as conn:
        row = conn.execute("select to_regprocedure('public.consume_oauth_state(text)') as f")
        assert row.fetchone() == {"f": None}
