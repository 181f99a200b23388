"""What every SQL repository shares: the user id as callers give it, and the one way a
repository calls a SQL function of `public` over a `Database` transport (the psycopg adapter
runs the named block of `sql/queries/` of the same name; the supabase-py adapter calls the
function with `.rpc()`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shared.db.protocol import Database

UserId = uuid.UUID | str


def as_id(value: UserId | None) -> str | None:
    return None if value is None else str(value)


def as_time(value: Any) -> datetime | None:
    """A timestamp as SQL's JSON gives it (ISO text) or as a driver gives it."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class SqlStore:
    """A repository over a `Database`: one SQL function call per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _call(self, function: str, **params: Any) -> Any:
        return self.db.rpc(function, params)
