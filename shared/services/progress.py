"""Live progress of a sync session as Server-Sent Events.

The stream opens with the session's current state (so a client can join late), then relays
every event the database recorded after it (the trigger on character_sync_sessions writes
them to sync_events and announces them with pg_notify), and ends after sync-complete or
sync-error. Bounded: it stops after `max_seconds` and sends a comment as a heartbeat while
nothing happens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from shared.db.repository import Repository

FINAL_EVENTS = frozenset({"sync-complete", "sync-error"})
POLL_SECONDS = 0.2
HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 900.0


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class ProgressStream:
    def __init__(
        self,
        repo: Repository,
        *,
        poll_seconds: float = POLL_SECONDS,
        max_seconds: float = MAX_STREAM_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.repo = repo
        self.poll_seconds = poll_seconds
        self.max_seconds = max_seconds
        self.sleep = sleep

    def events(self, session_id: str, first: dict[str, Any]) -> Iterator[str]:
        """`first` is the session's current state as `get_sync_state` returns it (already
        checked to belong to the caller)."""
        yield sse(first["event"], first["data"], first.get("lastEventId"))
        if first["event"] in FINAL_EVENTS:
            return
        last_id = int(first.get("lastEventId") or 0)
        started = last_beat = time.monotonic()
        while time.monotonic() - started < self.max_seconds:
            for event in self.repo.sync_events_since(session_id, last_id):
                last_id = int(event["id"])
                yield sse(event["event"], event["data"], last_id)
                if event["event"] in FINAL_EVENTS:
                    return
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"
            self.sleep(self.poll_seconds)
        yield sse("stream-timeout", {"sessionId": session_id})
