"""The database transport both adapters implement: call a SQL function of `public` with named
parameters (one round trip per batch, never one per row), and upsert rows of one table. What
services need of the database, typed, is the repositories of `shared.db` (one per concern,
each over this transport)."""

from __future__ import annotations

from typing import Any, Protocol

JSON = dict[str, Any]


class Database(Protocol):
    def rpc(self, function: str, params: JSON) -> Any:
        """Call the SQL function `public.<function>` with named parameters; return its value."""

    def upsert_rows(self, table: str, rows: list[JSON], on_conflict: str) -> list[JSON]:
        """Insert or update rows of one table in one request; return them as stored."""

    def close(self) -> None: ...
