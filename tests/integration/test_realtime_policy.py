"""The realtime.messages policy: a user receives their own sessions' private topics only.

Checked the way Realtime authorizes a join to a private channel: in a transaction it inserts a
probe message for the topic, sets role, request.jwt.claims and realtime.topic, selects the probe
back (readable means "may receive"), and rolls back."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from shared.db.psycopg_adapter import PsycopgDatabase
from tests.integration.sql_calls import character, complete, new_sync, new_user


def claims(role: str, sub: str | None) -> str:
    return json.dumps({"role": role, **({"sub": sub, "aud": "authenticated"} if sub else {})})


def may_join(db: PsycopgDatabase, topic: str, role: str, sub: str | None = None) -> bool:
    with psycopg.connect(db.dsn) as conn:  # one transaction, rolled back on leaving
        probe = conn.execute(
            "insert into realtime.messages (topic, extension) values (%s, 'broadcast') "
            "returning id",
            (topic,),
        ).fetchone()
        assert probe is not None
        conn.execute(
            "select set_config('role', %s, true), set_config('realtime.topic', %s, true), "
            "set_config('request.jwt.claims', %s, true)",
            (role, topic, claims(role, sub)),
        )
        seen = conn.execute(
            "select count(*) from realtime.messages "
            "where topic = %s and extension = 'broadcast' and id = %s",
            (topic, probe[0]),
        ).fetchone()
        conn.rollback()
    return seen == (1,)


def visible(db: PsycopgDatabase, topic: str, role: str, sub: str | None = None) -> list[Any]:
    """Every message the role can read while Realtime checks `topic`."""
    with psycopg.connect(db.dsn) as conn:
        conn.execute(
            "select set_config('role', %s, true), set_config('realtime.topic', %s, true), "
            "set_config('request.jwt.claims', %s, true)",
            (role, topic, claims(role, sub)),
        )
        found = conn.execute("select topic from realtime.messages").fetchall()
        conn.rollback()
    return [row[0] for row in found]


@pytest.fixture
def sessions(realtime: PsycopgDatabase) -> dict[str, tuple[str, str]]:
    """Two users with one sync each, whose events went out on their topics."""
    out = {}
    for name, battlenet_id in (("alice", 1), ("bob", 2)):
        user = new_user(realtime, battlenet_id)
        result = new_sync(realtime, user, [character(battlenet_id, name.title())])
        for c in result["characters"]:
            complete(realtime, result["sessionId"], c["id"])
        out[name] = (user, f"sync:{result['sessionId']}")
    return out


def test_a_user_may_join_their_own_session_topic_only(
    realtime: PsycopgDatabase, sessions: dict[str, tuple[str, str]]
) -> None:
    (alice, alice_topic), (bob, bob_topic) = sessions["alice"], sessions["bob"]
    assert may_join(realtime, alice_topic, "authenticated", alice)
    assert may_join(realtime, bob_topic, "authenticated", bob)
    assert not may_join(realtime, bob_topic, "authenticated", alice)
    assert not may_join(realtime, alice_topic, "authenticated", bob)


def test_a_user_receives_their_sessions_messages_and_no_one_elses(
    realtime: PsycopgDatabase, sessions: dict[str, tuple[str, str]]
) -> None:
    (alice, alice_topic), (_, bob_topic) = sessions["alice"], sessions["bob"]
    own = visible(realtime, alice_topic, "authenticated", alice)
    assert own and set(own) == {alice_topic}  # progress and completion, none of Bob's
    assert visible(realtime, bob_topic, "authenticated", alice) == []


def test_anon_and_strangers_receive_nothing(
    realtime: PsycopgDatabase, sessions: dict[str, tuple[str, str]]
) -> None:
    _, alice_topic = sessions["alice"]
    assert not may_join(realtime, alice_topic, "anon")
    assert visible(realtime, alice_topic, "anon") == []
    stranger = "00000000-0000-4000-8000-000000000000"
    assert not may_join(realtime, alice_topic, "authenticated", stranger)


@pytest.mark.parametrize("topic", ["sync:not-a-uuid", "sync:", "lobby", "sync:{}x"])
def test_other_topics_are_refused_without_error(
    realtime: PsycopgDatabase, sessions: dict[str, tuple[str, str]], topic: str
) -> None:
    alice, alice_topic = sessions["alice"]
    assert not may_join(realtime, topic.format(alice_topic[5:]), "authenticated", alice)


def test_clients_cannot_broadcast_on_sync_topics(
    realtime: PsycopgDatabase, sessions: dict[str, tuple[str, str]]
) -> None:
    alice, alice_topic = sessions["alice"]
    with psycopg.connect(realtime.dsn) as conn:
        conn.execute(
            "select set_config('role', 'authenticated', true), "
            "set_config('realtime.topic', %s, true), set_config('request.jwt.claims', %s, true)",
            (alice_topic, claims("authenticated", alice)),
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "insert into realtime.messages (topic, extension, payload) "
                "values (%s, 'broadcast', '{}')",
                (alice_topic,),
            )


def test_the_migration_installed_the_policy_as_postgres(realtime: PsycopgDatabase) -> None:
    """On a hosted-shaped database postgres is not the owner of realtime.messages, and the
    migration still installs the policy (postgres may manage its policies)."""
    with realtime.connection() as conn:
        found = conn.execute(
            "select policyname, roles::text[] as roles from pg_policies "
            "where schemaname = 'realtime' and tablename = 'messages'"
        ).fetchall()
        owner = conn.execute(
            "select relowner::regrole::text as owner from pg_class "
            "where oid = 'realtime.messages'::regclass"
        ).fetchone()
    assert found == [{"policyname": "guild_sync_read_own_sync_topic", "roles": ["authenticated"]}]
    assert owner == {"owner": "supabase_realtime_admin"}
