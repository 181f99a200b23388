"""Character sync sessions: an account sync started (its characters deduplicated, the session
and one enrichment per character queued, in one transaction), one character's enrichment on
demand, each character's start and result, and what a watcher reads (state and events).

Typed where Python reads fields (`SyncStart`, `EnrichmentRequest`). The session's state and
its events are the progress events' JSON as SQL builds them (`sync_state_event`,
`sync_events_since`: `{event, data, lastEventId}` and `{id, event, data}`); Python reads only
their id and event name and sends them out as they are. So is `record_character_result`'s
`{recorded, sessionStatus | reason}` (read by tests only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.db.base import SqlStore, UserId, as_id
from shared.db.protocol import JSON
from shared.db.queue import Record


@dataclass(frozen=True)
class SyncStart:
    """A started session and its characters (`{id, name, realm, realmSlug, level}`, as the
    answer shows them), or the running session it conflicts with."""

    session_id: str
    conflict: bool = False
    characters: tuple[JSON, ...] = ()


@dataclass(frozen=True)
class EnrichmentRequest:
    """The enrichment queued (or the pending one): `answer` is `{sessionId, jobId, character,
    pending}`; or refused by the user's quota (nothing written), to retry after some seconds."""

    answer: JSON
    quota_exceeded: bool = False
    retry_after: float = 0.0


def result_record(
    session_id: str, character_id: int, status: str, error: str | None, data: JSON | None
) -> Record:
    """`record_character_result` (the character's result and the session's progress), written
    with the enrichment's delivery (`queue_complete`)."""
    return Record(
        "character_result",
        {
            "sessionId": session_id,
            "characterId": character_id,
            "status": status,
            "error": error,
            "data": data,
        },
    )


class SessionStore(Protocol):
    def active_sync_session(self, user_id: UserId) -> str | None: ...
    def account_sync_started_since(self, user_id: UserId, since: datetime) -> bool: ...
    def start_character_sync(
        self,
        *,
        user_id: UserId,
        region: str,
        flavor: str,
        game_version: str,
        characters: list[JSON],
        queue: str,
        archive_missing: bool,
    ) -> SyncStart: ...
    def enqueue_character_enrichment(
        self,
        user_id: UserId,
        character_id: int,
        queue: str,
        limit: int | None = None,
        window_s: int = 3600,
    ) -> EnrichmentRequest | None: ...
    def start_character_item(self, session_id: str, character_id: int) -> bool: ...
    def record_character_result(
        self, session_id: str, character_id: int, status: str, error: str | None, data: JSON | None
    ) -> JSON: ...
    def fail_sync_session(self, session_id: str, error: str) -> None: ...
    def get_sync_state(self, session_id: str, user_id: UserId | None) -> JSON | None: ...
    def sync_events_since(self, session_id: str, after: int) -> list[JSON]: ...


class SqlSessionStore(SqlStore):
    def active_sync_session(self, user_id: UserId) -> str | None:
        found = self._call("active_sync_session", p_user_id=as_id(user_id))
        return None if found is None else str(found)

    def account_sync_started_since(self, user_id: UserId, since: datetime) -> bool:
        return bool(
            self._call(
                "account_sync_started_since", p_user_id=as_id(user_id), p_since=since.isoformat()
            )
        )

    def start_character_sync(
        self,
        *,
        user_id: UserId,
        region: str,
        flavor: str,
        game_version: str,
        characters: list[JSON],
        queue: str,
        archive_missing: bool,
    ) -> SyncStart:
        row: JSON = self._call(
            "start_character_sync",
            p_user_id=as_id(user_id),
            p_region=region,
            p_flavor=flavor,
            p_game_version=game_version,
            p_characters=characters,
            p_queue=queue,
            p_archive_missing=archive_missing,
        )
        return SyncStart(
            str(row["sessionId"]), bool(row["conflict"]), tuple(row.get("characters") or ())
        )

    def enqueue_character_enrichment(
        self,
        user_id: UserId,
        character_id: int,
        queue: str,
        limit: int | None = None,
        window_s: int = 3600,
    ) -> EnrichmentRequest | None:
        """None for a character not the user's. No quota when `limit` is None."""
        row: JSON | None = self._call(
            "request_character_enrichment",
            p_user_id=as_id(user_id),
            p_character_id=character_id,
            p_queue=queue,
            p_limit=limit,
            p_window_s=window_s,
        )
        if row is None:
            return None
        if row.get("quotaExceeded"):
            return EnrichmentRequest({}, True, float(row.get("retryAfter") or 0))
        return EnrichmentRequest(row)

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

    def get_sync_state(self, session_id: str, user_id: UserId | None) -> JSON | None:
        """The session's state as an event, for its owner (anyone's when `user_id` is None)."""
        result: JSON | None = self._call(
            "get_sync_state", p_session_id=session_id, p_user_id=as_id(user_id)
        )
        return result

    def sync_events_since(self, session_id: str, after: int) -> list[JSON]:
        result: list[JSON] = self._call("sync_events_since", p_session_id=session_id, p_after=after)
        return result
