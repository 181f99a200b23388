"""The supabase-py adapter: the same SQL functions through PostgREST (`.rpc()`), pgmq through
the `pgmq_public` schema. Chosen when SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are set.
The client is built lazily, so constructing the adapter makes no network call."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from shared.db.protocol import JSON, QueueMessage
from shared.errors import DataError

QUEUE_SCHEMA = "pgmq_public"


class SupabaseDatabase:
    def __init__(self, url: str, service_role_key: str, *, client: Any = None) -> None:
        self.url = url
        self._key = service_role_key
        self._client = client

    @functools.cached_property
    def client(self) -> Any:
        if self._client is not None:
            return self._client
        from supabase import create_client

        return create_client(self.url, self._key)

    def _execute(self, builder: Any) -> Any:
        from postgrest.exceptions import APIError

        try:
            return builder.execute().data
        except APIError as exc:
            raise DataError(f"PostgREST error {exc.code}: {exc.message}") from exc
        except Exception as exc:  # httpx transport errors and the like
            raise DataError(f"PostgREST unreachable: {type(exc).__name__}") from exc

    def rpc(self, function: str, params: JSON) -> Any:
        return self._execute(self.client.rpc(function, params))

    def upsert_rows(self, table: str, rows: list[JSON], on_conflict: str) -> list[JSON]:
        if not rows:
            return []
        data: list[JSON] = self._execute(
            self.client.table(table).upsert(rows, on_conflict=on_conflict)
        )
        return data

    def _queue_rpc(self, function: str, params: JSON) -> Any:
        return self._execute(self.client.schema(QUEUE_SCHEMA).rpc(function, params))

    def queue_send_batch(self, queue: str, messages: list[JSON], delay: int = 0) -> list[int]:
        if not messages:
            return []
        ids = self._queue_rpc(
            "send_batch", {"queue_name": queue, "messages": messages, "sleep_seconds": delay}
        )
        return [int(i) for i in ids]

    def queue_read(self, queue: str, visibility_timeout: int, qty: int) -> list[QueueMessage]:
        rows = self._queue_rpc(
            "read", {"queue_name": queue, "sleep_seconds": visibility_timeout, "n": qty}
        )
        return [
            QueueMessage(
                int(r["msg_id"]),
                int(r["read_ct"]),
                datetime.fromisoformat(r["enqueued_at"]),
                r["message"],
            )
            for r in rows
        ]

    def queue_archive(self, queue: str, msg_id: int) -> bool:
        return bool(self._queue_rpc("archive", {"queue_name": queue, "message_id": msg_id}))

    def queue_delete(self, queue: str, msg_id: int) -> bool:
        return bool(self._queue_rpc("delete", {"queue_name": queue, "message_id": msg_id}))

    def close(self) -> None:
        return None
