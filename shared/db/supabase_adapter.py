"""The supabase-py adapter: the same SQL functions through PostgREST (`.rpc()`), queue calls
included (public RPCs, not `pgmq_public`: see the README). Chosen when SUPABASE_URL and
SUPABASE_SERVICE_ROLE_KEY are set. The client is built lazily, so constructing the adapter makes
no network call."""

from __future__ import annotations

import functools
from typing import Any

from shared.db.protocol import JSON
from shared.errors import DatabaseSchemaError, DatabaseUnavailable, DataError, database_error_for


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
            code = str(exc.code or "")
            if code.startswith("PGRST0"):  # PostgREST could not reach the database
                error: type[DataError] = DatabaseUnavailable
            elif code.startswith("PGRST"):  # e.g. PGRST202: no such function in the schema cache
                error = DatabaseSchemaError
            else:  # a SQLSTATE from Postgres
                error = database_error_for(code or None)
            raise error(f"PostgREST error {code}: {exc.message}", sqlstate=code or None) from exc
        except Exception as exc:  # httpx transport errors and the like
            raise DatabaseUnavailable(f"PostgREST unreachable: {type(exc).__name__}") from exc

    def rpc(self, function: str, params: JSON) -> Any:
        return self._execute(self.client.rpc(function, params))

    def upsert_rows(self, table: str, rows: list[JSON], on_conflict: str) -> list[JSON]:
        if not rows:
            return []
        data: list[JSON] = self._execute(
            self.client.table(table).upsert(rows, on_conflict=on_conflict)
        )
        return data

    def close(self) -> None:
        return None
