"""Users, syncs and enrichments made by calling the SQL functions by name with named
arguments, as PostgREST would: for tests about the database's own behaviour (grants, Realtime,
pg_net), independent of the Python repository's shape."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from shared.db.psycopg_adapter import PsycopgDatabase


def call(db: PsycopgDatabase, function: str, **params: Any) -> Any:
    """`select public.<function>(name => value, ...)`; dicts and lists travel as jsonb."""
    arguments = sql.SQL(", ").join(
        sql.SQL("{} => {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in params
    )
    statement = sql.SQL("select public.{}({}) as result").format(
        sql.Identifier(function), arguments
    )
    values = {k: Jsonb(v) if isinstance(v, dict | list) else v for k, v in params.items()}
    with db.connection() as conn:
        row = conn.execute(statement, values).fetchone()
    assert row is not None
    return row["result"]


def new_user(db: PsycopgDatabase, battlenet_id: int) -> str:
    user = call(
        db,
        "upsert_login",
        p_battlenet_id=battlenet_id,
        p_battletag=f"Player#{battlenet_id}",
        p_region="us",
        p_ciphertext="v1.k.opaque",
        p_key_id="k",
        p_expires_at="2999-01-01T00:00:00+00:00",
        p_scopes=None,
        p_sync_queue=None,
    )
    return str(user["id"])


def character(blizzard_id: int, name: str) -> dict[str, Any]:
    return {"blizzard_id": blizzard_id, "name": name, "realm_id": 1, "realm_slug": "area-52"}


def new_sync(db: PsycopgDatabase, user_id: str, characters: list[dict[str, Any]]) -> Any:
    """An account sync: {conflict, sessionId, characters: [{id, ...}]}."""
    return call(
        db,
        "start_character_sync",
        p_user_id=user_id,
        p_region="us",
        p_flavor="retail",
        p_game_version="retail",
        p_characters=characters,
    )


def complete(db: PsycopgDatabase, session_id: str, character_id: int) -> None:
    call(db, "start_character_item", p_session_id=session_id, p_character_id=character_id)
    call(
        db,
        "record_character_result",
        p_session_id=session_id,
        p_character_id=character_id,
        p_status="completed",
    )


def new_enrichment(db: PsycopgDatabase, user_id: str, character_id: int) -> Any:
    return call(db, "enqueue_character_enrichment", p_user_id=user_id, p_character_id=character_id)
