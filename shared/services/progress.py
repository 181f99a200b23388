"""Live progress of a sync session as Server-Sent Events.

The stream opens with the session's current state (so a client can join late), then relays
every event the database recorded after it (the trigger on character_sync_sessions writes
them to sync_events and announces them with pg_notify), and ends after sync-complete or
sync-error. Bounded: it stops after `max_seconds` (STREAM_MAX_SECONDS, below the platform's
and the load balancer's request timeouts), sends a comment as a heartbeat while nothing
happens, and polls less often while nothing changes (0.1 s, doubling up to 2 s, back to
0.1 s on an event). While it waits it also looks at the session itself every few seconds, so
it ends within seconds of the session's end whatever `Last-Event-ID` it was opened with.

Open streams are capped per instance (MAX_STREAMS_PER_INSTANCE, an in-process counter, so
streams never take every request thread of an instance) and per user across instances
(USER_MAX_STREAMS, counted in the database: a row per open stream whose expiry the heartbeat
pushes forward, deleted when the stream ends): past either cap the stream is refused with 429
`too_many_requests` and Retry-After, before it starts.

Every event carries an `id:`, the id of the last sync_events row it reflects: the opening
state carries the newest event id of the session at that moment (0 before any), relayed
events their own. A client that lost the connection reconnects with `Last-Event-ID: <id>`;
the stream then resumes with the events recorded after that id, without the opening state,
so nothing is lost and nothing repeats (ids of one session grow in commit order: they are
taken under the session row's lock). Only when the session has already ended and nothing
newer is left does a resumed stream send the final state again, so the client learns the end.
An id beyond the session's newest event (an id of another session, a forged one) is answered
at once with the current state, as if there were no header. `Last-Event-ID: 0` follows a session
from its first event (the page that started it does so, so a session that ends before its stream
opens still delivers every character's result); before any event it also gets the state at once.

When the database is briefly away while polling, the stream ends cleanly with
`event: stream-interrupted` (carrying the last id and a `retry:` hint) rather than a dropped
connection; after `max_seconds` it ends with `event: stream-timeout`, likewise. In both cases
the client reconnects with Last-Event-ID.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from shared.db.limits import LimitStore
from shared.db.sessions import SessionStore
from shared.errors import BadRequest, DataError, TooManyRequests
from shared.settings import Settings

FINAL_EVENTS = frozenset({"sync-complete", "sync-error"})
POLL_SECONDS = 0.1  # the poll's first delay, again after every event
MAX_POLL_SECONDS = 2.0  # the poll's delay while nothing changes grows to this
HEARTBEAT_SECONDS = 15.0
STATE_CHECK_SECONDS = 5.0  # while nothing comes, look at the session itself this often
MAX_STREAM_SECONDS = 240.0
STREAM_TTL_SECONDS = 60  # an open stream's row lapses this long after its last heartbeat
INSTANCE_BUSY_RETRY_SECONDS = 5
RETRY_MS = 2000  # the reconnection delay suggested to the client after a clean early end


def default_instance_streams() -> int:
    """Half the request threads of a functions-framework instance (its gunicorn runs
    THREADS threads, by default 4 per CPU): streams never hold every thread."""
    threads = int(os.environ.get("THREADS") or (os.cpu_count() or 1) * 4)
    return max(1, threads // 2)


@dataclass(frozen=True)
class StreamLimits:
    per_user: int = 10
    per_instance: int = 2
    max_seconds: float = MAX_STREAM_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> StreamLimits:
        return cls(
            per_user=settings.user_max_streams,
            per_instance=settings.max_streams_per_instance or default_instance_streams(),
            max_seconds=settings.stream_max_seconds,
        )


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


class EventStream:
    """The stream's text chunks; `close()` (called by the WSGI server when the response ends,
    the client gone included, even if it was never read) gives its places back, once."""

    def __init__(self, chunks: Iterator[str], release: Callable[[], None]) -> None:
        self._chunks = chunks
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> str:
        return next(self._chunks)

    def close(self) -> None:
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class ProgressStream:
    def __init__(
        self,
        sessions: SessionStore,
        streams: LimitStore,
        limits: StreamLimits | None = None,
        *,
        poll_seconds: float = POLL_SECONDS,
        max_poll_seconds: float = MAX_POLL_SECONDS,
        max_seconds: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.streams = streams
        self.limits = limits or StreamLimits()
        self.poll_seconds = poll_seconds
        self.max_poll_seconds = max(poll_seconds, max_poll_seconds)
        self.max_seconds = self.limits.max_seconds if max_seconds is None else max_seconds
        self.sleep = sleep
        self.clock = clock
        self._slots = threading.BoundedSemaphore(self.limits.per_instance)

    def events(
        self,
        session_id: str,
        first: dict[str, Any],
        last_event_id: str | None = None,
        user_id: Any = None,
    ) -> EventStream:
        """`first` is the session's current state as `get_sync_state` returns it (already
        checked to belong to the caller); `last_event_id` the raw Last-Event-ID header;
        `user_id` the user whose open streams count (None: the operator, not counted).
        The header and both caps are checked now: a 400 or 429 comes before the stream."""
        resume_after = parse_last_event_id(last_event_id)
        if not self._slots.acquire(blocking=False):
            raise TooManyRequests(
                "this instance holds as many event streams as it may; try again",
                retry_after=INSTANCE_BUSY_RETRY_SECONDS,
            )
        stream_id: str | None = None
        try:
            if user_id is not None:
                answer = self.streams.stream_open(
                    user_id,
                    self.limits.per_user,
                    STREAM_TTL_SECONDS,
                    math.ceil(self.max_seconds) + STREAM_TTL_SECONDS,
                )
                if not answer.ok:
                    raise TooManyRequests(
                        f"at most {self.limits.per_user} open event streams per user; close one",
                        retry_after=answer.retry_after,
                    )
                stream_id = answer.id
        except BaseException:
            self._slots.release()
            raise

        def touch() -> None:
            if stream_id is not None:
                self.streams.stream_touch(stream_id, STREAM_TTL_SECONDS)

        def release() -> None:
            self._slots.release()
            if stream_id is not None:
                try:
                    self.streams.stream_close(stream_id)
                except DataError:
                    pass  # its row lapses after STREAM_TTL_SECONDS (and pg_cron deletes it)

        return EventStream(self._stream(session_id, first, resume_after, touch), release)

    def _stream(
        self,
        session_id: str,
        first: dict[str, Any],
        resume_after: int | None,
        touch: Callable[[], None],
    ) -> Iterator[str]:
        state_id = int(first.get("lastEventId") or 0)
        if resume_after is None or resume_after > state_id:
            # a new stream, or an id beyond the session's newest event: the state at once
            yield sse(first["event"], first["data"], state_id)
            if first["event"] in FINAL_EVENTS:
                return
            last_id = state_id
        else:
            last_id = resume_after
            if first["event"] in FINAL_EVENTS and state_id <= last_id:
                yield sse(first["event"], first["data"], max(state_id, last_id))
                return
            if resume_after == 0 and state_id == 0:
                # from the start (a page that just started the session) before anything
                # happened: the state at once, then every event from there
                yield sse(first["event"], first["data"], state_id)
                last_id = state_id
        started = last_beat = last_check = self.clock()
        delay = self.poll_seconds
        while self.clock() - started < self.max_seconds:
            try:
                batch = self.sessions.sync_events_since(session_id, last_id)
                for event in batch:
                    last_id = int(event["id"])
                    yield sse(event["event"], event["data"], last_id)
                    if event["event"] in FINAL_EVENTS:
                        return
                now = self.clock()
                if batch:
                    last_check = now
                elif now - last_check >= STATE_CHECK_SECONDS:
                    last_check = now
                    current = self.sessions.get_sync_state(session_id, None)
                    if current is None:
                        return  # the session is gone: a reconnection is answered 404
                    if current["event"] in FINAL_EVENTS:
                        final_id = max(int(current.get("lastEventId") or 0), last_id)
                        yield sse(current["event"], current["data"], final_id)
                        return
                if now - last_beat >= HEARTBEAT_SECONDS:
                    last_beat = now
                    touch()
                    yield ": keep-alive\n\n"
            except DataError:
                data = {"sessionId": session_id, "lastEventId": last_id}
                yield sse("stream-interrupted", data, last_id, RETRY_MS)
                return
            if batch:
                delay = self.poll_seconds
            self.sleep(delay)
            if not batch:
                delay = min(delay * 2, self.max_poll_seconds)
        yield sse("stream-timeout", {"sessionId": session_id}, last_id, RETRY_MS)
