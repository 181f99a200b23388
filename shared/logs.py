"""Logs an operator can follow: in production one JSON object per line on stdout, the fields
Cloud Logging reads (`severity`, `message`, `logging.googleapis.com/trace`, `.../spanId`,
`.../sourceLocation`), and the request's own fields on every line it writes: `function`,
`route`, `userId` (never a token), `errorId` (the id a 5xx answer shows the caller). Locally
the logs stay plain text (`LOG_FORMAT=text`, the default outside production).

    {"severity": "ERROR", "message": "error 3f2a...: BlizzardServerError: ...",
     "logging.googleapis.com/trace": "projects/my-project/traces/4bf92f3577b34da6a3ce929d0e0e4736",
     "function": "fetch_profile", "route": "POST /api/v1/characters/sync",
     "userId": "0b6c...", "errorId": "3f2a...", ...}

Per-request fields live in a context variable: `request_context()` opens them where a request
enters (shared/http.py), `bind()` adds what is learnt later (the route, the user). A line may
carry its own fields with `extra={"fields": {...}}` (the Battle.net client's status and
latency). Worker threads see them when started with `shared.blizzard.scope.submit`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO

TRACE_FIELD = "logging.googleapis.com/trace"
SPAN_FIELD = "logging.googleapis.com/spanId"
SAMPLED_FIELD = "logging.googleapis.com/trace_sampled"
SOURCE_FIELD = "logging.googleapis.com/sourceLocation"
#: `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS` (span id decimal).
CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d*))?(?:;o=(\d))?$")
#: W3C `traceparent: 00-TRACE_ID-SPAN_ID-FLAGS`.
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
SEVERITY = {"WARNING": "WARNING", "CRITICAL": "CRITICAL", "ERROR": "ERROR", "DEBUG": "DEBUG"}

NO_FIELDS: Mapping[str, Any] = MappingProxyType({})
_fields: ContextVar[Mapping[str, Any]] = ContextVar("guild_sync_log_fields", default=NO_FIELDS)


def trace_fields(
    cloud_trace: str | None, traceparent: str | None, project: str | None
) -> dict[str, Any]:
    """Cloud Logging's trace fields from the request's headers (Google's load balancer and
    Cloud Run send `X-Cloud-Trace-Context`; W3C `traceparent` is read when that is absent).
    Without a project id the trace is kept as `traceId` (Cloud Logging wants the full name)."""
    trace = span = None
    sampled = False
    if cloud_trace and (match := CLOUD_TRACE.match(cloud_trace.strip())):
        trace, decimal_span, options = match.groups()
        if decimal_span and len(decimal_span) <= 20 and int(decimal_span) < 2**64:
            span = f"{int(decimal_span):016x}"
        sampled = options == "1"
    elif traceparent and (match := TRACEPARENT.match(traceparent.strip().lower())):
        trace, span, flags = match.groups()
        sampled = bool(int(flags, 16) & 1)
    if trace is None or set(trace) == {"0"}:
        return {}
    trace = trace.lower()
    found: dict[str, Any] = {
        TRACE_FIELD: f"projects/{project}/traces/{trace}" if project else None,
        "traceId": None if project else trace,
        SPAN_FIELD: span,
        SAMPLED_FIELD: sampled or None,
    }
    return {k: v for k, v in found.items() if v is not None}


@contextmanager
def request_context(**fields: Any) -> Iterator[None]:
    """Fields every line written inside carries (a request's trace, function)."""
    token = _fields.set({k: v for k, v in fields.items() if v is not None})
    try:
        yield
    finally:
        _fields.reset(token)


def bind(**fields: Any) -> None:
    """Add fields to the current request's lines (the route once matched, the user once
    known)."""
    _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})


def current_fields() -> Mapping[str, Any]:
    return _fields.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for Cloud Logging's structured logs."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        entry: dict[str, Any] = {
            "severity": SEVERITY.get(record.levelname, "INFO"),
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
            SOURCE_FIELD: {
                "file": record.pathname,
                "line": str(record.lineno),
                "function": record.funcName,
            },
            **_fields.get(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, Mapping):
            entry.update(extra)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stdout is when a line is written (tests capture it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


_handler: logging.Handler | None = None


def configure_logging(log_format: str, level: int = logging.INFO) -> logging.Handler | None:
    """`json`: the root logger writes JSON lines to stdout at `level` (its handlers replaced
    by one). `text`: logging is left as the process set it up. Returns the JSON handler."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler = None
    if log_format != "json":
        return None
    for handler in list(root.handlers):
        root.removeHandler(handler)
    _handler = _StdoutHandler()
    _handler.setFormatter(JsonFormatter())
    root.addHandler(_handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "hpack"):  # httpx logs each request with its query
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return _handler
