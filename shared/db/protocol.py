"""What services need of the database. Both adapters implement it by calling the same SQL
functions defined in supabase/migrations (one round trip per batch, never one per row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

JSON = dict[str, Any]


@dataclass(frozen=True)
class QueueMessage:
    msg_id: int
    read_ct: int
    enqueued_at: datetime
    message: JSON


class Database(Protocol):
    def rpc(self, function: str, params: JSON) -> Any:
        """Call the SQL function `public.<function>` with named parameters; return its value."""

    def upsert_rows(self, table: str, rows: list[JSON], on_conflict: str) -> list[JSON]:
        """Insert or update rows of one table in one request; return them as stored."""

    def queue_send_batch(self, queue: str, messages: list[JSON], delay: int = 0) -> list[int]:
        """pgmq send_batch: one round trip for all messages."""

    def queue_read(self, queue: str, visibility_timeout: int, qty: int) -> list[QueueMessage]:
        """pgmq read: claim up to `qty` messages for `visibility_timeout` seconds."""

    def queue_archive(self, queue: str, msg_id: int) -> bool: ...

    def queue_delete(self, queue: str, msg_id: int) -> bool: ...

    def close(self) -> None: ...


class Repository:
    """The typed calls services make, on top of any `Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def upsert_static_data(self, entries: list[JSON]) -> list[JSON]:
        result: list[JSON] = self.db.rpc("upsert_static_data", {"p_data": entries})
        return result
