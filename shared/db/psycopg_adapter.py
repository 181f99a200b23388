"""The psycopg adapter: a connection pool, named SQL blocks, driver errors wrapped in
DataError (by SQLSTATE: unavailable, schema, other). The local default and the fast path.

Safe behind a transaction-mode pooler (Supabase's port 6543, pgbouncer `pool_mode =
transaction`), always: such a pooler lends a server connection for one transaction only, so
nothing may outlive one. No prepared statements (`prepare_threshold=None`); no startup
`options` (poolers refuse or drop them); the statement timeout is set per call with
`set_config(..., true)`, sent in one message with the call's statement (client-side binding)
so both run in one implicit transaction and cost one round trip; no session advisory locks,
`SET` or `LISTEN`.

A connection is checked before it is lent only when it sat idle for a while: one just back
from a statement is known good, and checking it would double the round trips of a busy
worker. A statement that finds the connection dead has every idle connection checked at once,
so the next one lent is a fresh one.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg import sql
from psycopg.rows import dict_row, tuple_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from shared.db.protocol import JSON
from shared.db.queries import query
from shared.errors import DatabaseUnavailable, database_error_for

CONNECT_TIMEOUT = 5
STATEMENT_TIMEOUT_MS = 30_000
POOL_TIMEOUT = 10.0
CHECK_AFTER_IDLE = 1.0  # seconds: a connection idle longer is checked before it is lent


def _adapt(value: Any) -> Any:
    """dict, and lists of anything but strings, travel as jsonb; lists of strings as arrays."""
    if isinstance(value, dict):
        return Jsonb(value)
    if isinstance(value, list):
        if value and all(isinstance(v, str | Jsonb) for v in value):
            return value
        return Jsonb(value)
    return value


def _adapted(params: JSON) -> dict[str, Any]:
    return {k: _adapt(v) for k, v in params.items()}


class PsycopgDatabase:
    def __init__(
        self, dsn: str, *, max_size: int = 10, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS
    ) -> None:
        self.dsn = dsn
        self.pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max_size,
            timeout=POOL_TIMEOUT,
            open=False,
            check=self._check,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "connect_timeout": CONNECT_TIMEOUT,
                "prepare_threshold": None,
            },
        )
        self.statement_timeout_ms = statement_timeout_ms
        self._timeout = sql.SQL(query("set_statement_timeout")).format(  # type: ignore[arg-type]
            ms=sql.Literal(str(statement_timeout_ms))
        )
        self._opened = False
        self._composed: dict[str, bytes] = {}  # named blocks with the timeout, composed once
        self._idle_since: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    def _check(self, conn: psycopg.Connection[Any]) -> None:
        """Check a connection that sat idle before lending it. A dead one means the server
        restarted or dropped us: then every idle connection is checked at once, so the next
        one lent is a fresh one instead of the next dead one (the pool backs off between
        failed checks)."""
        idle_since = self._idle_since.get(conn)
        if idle_since is not None and time.monotonic() - idle_since < CHECK_AFTER_IDLE:
            return
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error:
            self._check_idle()
            raise

    def _check_idle(self) -> None:
        try:
            self.pool.check()
        except psycopg.Error:
            pass  # the pool replaces what failed its check

    @contextmanager
    def connection(
        self, statement: str | None = None
    ) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """A pooled connection; driver errors leave as DataError: DatabaseUnavailable when
        the database is away (try again), DatabaseSchemaError when the schema and the code
        disagree, with the SQLSTATE and the statement's name (`statement`) attached."""
        if not self._opened:
            self.pool.open(wait=False)
            self._opened = True
        try:
            with self.pool.connection() as conn:
                try:
                    yield cast("psycopg.Connection[dict[str, Any]]", conn)
                finally:  # back to the pool now: known good for CHECK_AFTER_IDLE
                    self._idle_since[conn] = time.monotonic()
        except psycopg.Error as exc:
            sqlstate = exc.sqlstate
            if sqlstate is None and isinstance(exc, psycopg.OperationalError):
                self._check_idle()  # the connection died: the idle ones may be dead too
            if sqlstate is None and not isinstance(exc, psycopg.OperationalError):
                sqlstate = "XX000"  # a client-side failure that is not the connection's
            error = database_error_for(sqlstate)
            where = f" in {statement}" if statement else ""
            raise error(
                f"database error{where}: {type(exc).__name__} (SQLSTATE {sqlstate or '-'}): "
                f"{exc}".strip(),
                sqlstate=sqlstate,
                statement=statement,
            ) from exc
        except TimeoutError as exc:  # the pool had no connection in time
            raise DatabaseUnavailable(f"database unavailable: {exc}", statement=statement) from exc

    def _run(
        self,
        statement: str | sql.Composable,
        params: dict[str, Any],
        name: str | None = None,
        row_factory: Any = dict_row,
    ) -> list[Any]:
        """Run one statement under the statement timeout, in one round trip: the timeout
        (`set_config(..., true)`: transaction-local) and the statement travel as one message
        with the parameters bound client-side, so both run in the implicit transaction of
        that message and the timeout is armed anew for the statement. A named block's text is
        composed once (psycopg then reuses its parsed placeholders)."""
        with self.connection(name) as conn:
            query = self._composed.get(name) if name is not None else None
            if query is None:
                if isinstance(statement, str):
                    statement = sql.SQL(statement)  # type: ignore[arg-type]
                query = sql.Composed([self._timeout, statement]).as_bytes(conn)
                if name is not None and isinstance(statement, sql.SQL):
                    self._composed[name] = query
            cursor = psycopg.ClientCursor(conn, row_factory=row_factory)
            cursor.execute(query, params)
            cursor.nextset()
            return cursor.fetchall()

    def fetch_all(self, name: str, params: JSON) -> list[dict[str, Any]]:
        return self._run(query(name), _adapted(params), name)

    def fetch_value(self, name: str, params: JSON) -> Any:
        rows = self._run(query(name), _adapted(params), name, tuple_row)
        return rows[0][0] if rows else None

    # --- Database ------------------------------------------------------------------------

    def rpc(self, function: str, params: JSON) -> Any:
        return self.fetch_value(function, params)

    def upsert_rows(self, table: str, rows: list[JSON], on_conflict: str) -> list[JSON]:
        if not rows:
            return []
        columns = list(rows[0])
        conflict = [c.strip() for c in on_conflict.split(",")]
        updates = [c for c in columns if c not in conflict]
        statement = sql.SQL(
            "insert into {table} ({cols}) select {cols} from jsonb_populate_recordset("
            "null::{table}, %(rows)s) on conflict ({conflict}) do {action} returning *"
        ).format(
            table=sql.Identifier("public", table),
            cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
            conflict=sql.SQL(", ").join(map(sql.Identifier, conflict)),
            action=sql.SQL("update set {}").format(
                sql.SQL(", ").join(
                    sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in updates
                )
            )
            if updates
            else sql.SQL("nothing"),
        )
        return self._run(statement, {"rows": Jsonb(rows)}, f"upsert {table}")

    def close(self) -> None:
        if self._opened:
            self.pool.close()
            self._opened = False
