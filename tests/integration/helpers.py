"""Builders for integration tests, and acting as an API role (RLS checks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from devtools.pgcluster import Cluster
from shared.db.protocol import Database
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.queue import Delivery
from shared.db.repositories import Repositories


def sql(db: PsycopgDatabase, statement: str, *params: Any) -> list[dict[str, Any]]:
    """Run one statement; its rows, or [] when it returns none."""
    with db.connection() as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def login(repo: Repositories, battlenet_id: int = 1001, queue: str | None = None) -> str:
    user = repo.users.upsert_login(
        battlenet_id=battlenet_id,
        battletag=f"Player#{battlenet_id}",
        region="us",
        ciphertext="v1.k.opaque",
        key_id="k",
        expires_at="2999-01-01T00:00:00+00:00",
        scopes=["openid", "wow.profile"],
        sync_queue=queue,
    )
    return str(user.id)


def char(blizzard_id: int, name: str, realm_id: int = 1, slug: str = "area-52") -> dict[str, Any]:
    return {
        "blizzard_id": blizzard_id,
        "name": name,
        "realm_id": realm_id,
        "realm_slug": slug,
        "realm_name": slug.replace("-", " ").title(),
        "level": 70,
        "class_id": 1,
        "class_name": "Warrior",
        "race_id": 2,
        "race_name": "Orc",
        "faction": "HORDE",
        "gender": "MALE",
    }


def start(
    repo: Repositories, user_id: str, characters: list[dict[str, Any]], flavor: str = "retail"
) -> dict[str, Any]:
    """The sync started, as the SQL answers it: {conflict, sessionId, characters}."""
    started = repo.sessions.start_character_sync(
        user_id=user_id,
        region="us",
        flavor=flavor,
        game_version="retail" if flavor == "retail" else "classic_era",
        characters=characters,
        queue="character_sync",
        archive_missing=True,
    )
    return {
        "conflict": started.conflict,
        "sessionId": started.session_id,
        "characters": list(started.characters),
    }


def claim(db: Database, queue: str, qty: int = 10, vt: int = 30) -> list[Delivery]:
    """Claim up to `qty` visible messages of a queue, as the worker does."""
    return Repositories.over(db).queue.queue_claim(queue, vt, qty, fair=False)


def as_platform(cluster: Cluster, statement: str) -> None:
    """Run `statement` as the platform's superuser (what a project's postgres cannot do)."""
    with psycopg.connect(cluster.admin_dsn(), autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


@contextmanager
def as_role(dsn: str, role: str, sub: str | None = None) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn) as conn:
        claims = {"role": role, **({"sub": sub, "aud": "authenticated"} if sub else {})}
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        conn.execute(f"set local role {role}")  # type: ignore[arg-type]
        yield conn


def count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(f"select count(*) from {table}").fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])
