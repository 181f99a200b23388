"""What services need of the database. Both adapters implement `Database` by calling the same
SQL functions defined in supabase/migrations (one round trip per batch, never one per row);
`Repository` gives those calls names and types."""

from __future__ import annotations

import uuid
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


def _id(value: uuid.UUID | str | None) -> str | None:
    return None if value is None else str(value)


class Repository:
    """The typed calls services make, on top of any `Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _call(self, function: str, **params: Any) -> Any:
        return self.db.rpc(function, params)

    # --- static data ----------------------------------------------------------------------

    def upsert_static_data(self, entries: list[JSON]) -> list[JSON]:
        result: list[JSON] = self._call("upsert_static_data", p_data=entries)
        return result

    # --- login ----------------------------------------------------------------------------

    def save_oauth_state(
        self,
        state: str,
        code_verifier: str,
        redirect_to: str | None,
        region: str,
        browser_hash: str,
        expires_at: datetime,
    ) -> None:
        """Store a login's state (purging expired ones)."""
        self._call(
            "save_oauth_state",
            p_state=state,
            p_code_verifier=code_verifier,
            p_redirect_to=redirect_to,
            p_region=region,
            p_browser_hash=browser_hash,
            p_expires_at=expires_at.isoformat(),
        )

    def consume_login_state(self, state: str, browser_hash: str | None) -> JSON | None:
        """The state once, for its browser: None when unknown, expired or used;
        {"browserMismatch": true} when another browser brings it."""
        result: JSON | None = self._call(
            "consume_login_state", p_state=state, p_browser_hash=browser_hash
        )
        return result

    def find_user_id(
        self, user_id: uuid.UUID | str | None = None, battlenet_id: int | None = None
    ) -> uuid.UUID | None:
        """The id of the user named by id or Battle.net account id, if there is one."""
        result = self._call("find_user_id", p_user_id=_id(user_id), p_battlenet_id=battlenet_id)
        return None if result is None else uuid.UUID(str(result))

    def upsert_login(self, **params: Any) -> JSON:
        result: JSON = self._call("upsert_login", **params)
        return result

    def get_user_token(self, user_id: uuid.UUID | str) -> JSON | None:
        result: JSON | None = self._call("get_user_token", p_user_id=_id(user_id))
        return result

    def mark_relogin_required(self, user_id: uuid.UUID | str) -> None:
        self._call("mark_relogin_required", p_user_id=_id(user_id))

    # --- sync sessions --------------------------------------------------------------------

    def active_sync_session(self, user_id: uuid.UUID | str) -> str | None:
        result: str | None = self._call("active_sync_session", p_user_id=_id(user_id))
        return None if result is None else str(result)

    def start_character_sync(self, **params: Any) -> JSON:
        params["p_user_id"] = _id(params["p_user_id"])
        result: JSON = self._call("start_character_sync", **params)
        return result

    def enqueue_character_enrichment(self, **params: Any) -> JSON | None:
        params["p_user_id"] = _id(params["p_user_id"])
        result: JSON | None = self._call("enqueue_character_enrichment", **params)
        return result

    def start_character_item(self, session_id: str, character_id: int) -> bool:
        return bool(
            self._call("start_character_item", p_session_id=session_id, p_character_id=character_id)
        )

    def record_character_result(
        self, session_id: str, character_id: int, status: str, error: str | None, data: JSON | None
    ) -> JSON:
        result: JSON = self._call(
            "record_character_result",
            p_session_id=session_id,
            p_character_id=character_id,
            p_status=status,
            p_error=error,
            p_data=data,
        )
        return result

    def fail_sync_session(self, session_id: str, error: str) -> None:
        self._call("fail_sync_session", p_session_id=session_id, p_error=error)

    def get_sync_state(self, session_id: str, user_id: uuid.UUID | str | None) -> JSON | None:
        result: JSON | None = self._call(
            "get_sync_state", p_session_id=session_id, p_user_id=_id(user_id)
        )
        return result

    def sync_events_since(self, session_id: str, after: int) -> list[JSON]:
        result: list[JSON] = self._call("sync_events_since", p_session_id=session_id, p_after=after)
        return result

    def list_user_characters(self, user_id: uuid.UUID | str) -> list[JSON]:
        result: list[JSON] = self._call("list_user_characters", p_user_id=_id(user_id))
        return result

    # --- queues ---------------------------------------------------------------------------

    def queue_set_vt(self, queue: str, msg_id: int, seconds: int) -> bool:
        return bool(self._call("queue_set_vt", p_queue=queue, p_msg_id=msg_id, p_seconds=seconds))

    def queue_dead_letter(self, queue: str, msg_id: int, error: str) -> bool:
        return bool(self._call("queue_dead_letter", p_queue=queue, p_msg_id=msg_id, p_error=error))

    def queue_depths(self) -> dict[str, int]:
        result: dict[str, int] = self._call("queue_depths")
        return {k: int(v) for k, v in result.items()}

    # --- background work ------------------------------------------------------------------

    def rate_limit_take(self, bucket: str, want: int, per_second: int, per_hour: int) -> JSON:
        result: JSON = self._call(
            "rate_limit_take",
            p_bucket=bucket,
            p_want=want,
            p_per_second=per_second,
            p_per_hour=per_hour,
        )
        return result

    def refresh_account_characters(self, **params: Any) -> int:
        params["p_user_id"] = _id(params["p_user_id"])
        return int(self._call("refresh_account_characters", **params))

    def record_character_refresh(self, character_id: int, result: str, data: JSON | None) -> None:
        self._call(
            "record_character_refresh", p_character_id=character_id, p_result=result, p_data=data
        )

    def apply_guild_roster(
        self, guild_id: int, members: list[JSON], last_modified: str | None, member_count: int
    ) -> JSON | None:
        result: JSON | None = self._call(
            "apply_guild_roster",
            p_guild_id=guild_id,
            p_members=members,
            p_last_modified=last_modified,
            p_member_count=member_count,
        )
        return result

    def touch_guild_roster(self, guild_id: int) -> None:
        self._call("touch_guild_roster", p_guild_id=guild_id)

    def queue_status(self) -> JSON:
        result: JSON = self._call("queue_status")
        return result

    def run_job(self, name: str) -> int:
        """Run a scheduled job's body now (what pg_cron runs): enqueue_profile_refreshes,
        enqueue_character_refreshes, enqueue_static_sync, enqueue_guild_rosters,
        expire_stuck_sessions."""
        if name not in JOBS:
            raise ValueError(f"unknown job {name!r}")
        return int(self._call(name))


JOBS = (
    "enqueue_profile_refreshes",
    "enqueue_character_refreshes",
    "enqueue_static_sync",
    "enqueue_guild_rosters",
    "expire_stuck_sessions",
)
