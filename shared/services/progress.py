"""Live progress of a sync session as Server-Sent Events.

The stream opens with the session's current state (so a client can join late), then relays
every event the database recorded after it (the trigger on character_sync_sessions writes
them to sync_events and announces them with pg_notify), and ends after sync-complete or
sync-error. Bounded: it stops after `max_seconds` and sends a comment as a heartbeat while
nothing happens.

Every event carries an `id:`, the id of the last sync_events row it reflects: the opening
state carries the newest event id of the session at that moment (0 before any), relayed
events their own. A client that lost the connection reconnects with `Last-Event-ID: <id>`;
the stream then resumes with the events recorded after that id, without the opening state,
so nothing is lost and nothing repeats (ids of one session grow in commit order: they are
taken under the session row's lock). Only when the session has already ended and nothing
newer is left does a resumed stream send the final state again, so the client learns the end.

When the database is briefly away while polling, the stream ends cleanly with
`event: stream-interrupted` (carrying the last id and a `retry:` hint) rather than a dropped
connection; after `max_seconds` it ends with `event: stream-timeout`, likewise. In both cases
the client reconnects with Last-Event-ID.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from shared.db.repository import Repository
from shared.errors import BadRequest, DataError

FINAL_EVENTS = frozenset({"sync-complete", "sync-error"})
POLL_SECONDS = 0.2
HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 900.0
RETRY_MS = 2000  # the reconnection delay suggested to the client after a clean early end


def sse(event: str, data: Any, event_id: int | None = None, retry_ms: int | None = None) -> str:
    head = f"retry: {retry_ms}\n" if retry_ms is not None else ""
    head += f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def parse_last_event_id(raw: str | None) -> int | None:
    """The `Last-Event-ID` request header: None when absent or empty, else a non-negative
    integer (the ids this stream sends); anything else is a bad request."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:  # ids are bigints
        raise BadRequest("Last-Event-ID must be an event id this stream sent (an integer)")
    return int(value)


class ProgressStream:
    def __init__(
        self,
        repo: Repository,
        *,
        poll_seconds: float = POLL_SECONDS,
        max_seconds: float = MAX_STREAM_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repo = repo
        self.poll_seconds = poll_seconds
        self.max_seconds = max_seconds
        self.sleep = sleep
        self.clock = clock

    def events(
        self, session_id: str, first: dict[str, Any], last_event_id: str | None = None
    ) -> Iterator[str]:
        """`first` is the session's current state as `get_sync_state` returns it (already
        checked to belong to the caller); `last_event_id` the raw Last-Event-ID header.
        The header is checked now (a bad one is a 400 before the stream starts)."""
        resume_after = parse_last_event_id(last_event_id)
        return self._stream(session_id, first, resume_after)

    def _stream(
        self, session_id: str, first: dict[str, Any], resume_after: int | None
    ) -> Iterator[str]:
        state_id = int(first.get("lastEventId") or 0)
        if resume_after is None:
            yield sse(first["event"], first["data"], state_id)
            if first["event"] in FINAL_EVENTS:
                return
            last_id = state_id
        else:
            last_id = resume_after
            if first["event"] in FINAL_EVENTS and state_id <= last_id:
                yield sse(first["event"], first["data"], max(state_id, last_id))
                return
        started = last_beat = self.clock()
        while self.clock() - started < self.max_seconds:
            try:
                batch = self.repo.sync_events_since(session_id, last_id)
            except DataError:
                data = {"sessionId": session_id, "lastEventId": last_id}
                yield sse("stream-interrupted", data, last_id, RETRY_MS)
                return
            for event in batch:
                last_id = int(event["id"])
                yield sse(event["event"], event["data"], last_id)
                if event["event"] in FINAL_EVENTS:
                    return
            if self.clock() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = self.clock()
                yield ": keep-alive\n\n"
            self.sleep(self.poll_seconds)
        yield sse("stream-timeout", {"sessionId": session_id}, last_id, RETRY_MS)
