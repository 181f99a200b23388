"""One call of the queue consumer, as the `queue-consumer` function makes it: check that the
database runs a pgmq the code knows, drain, and record how the call ended in the database
(`queue_consumer_report`), so `/queue-consumer/status` shows a consumer that fails every claim
after one call, with the cause's SQLSTATE."""

from __future__ import annotations

import logging

from shared.db.queue import QueueStore
from shared.errors import DatabaseSchemaError, DataError, GuildSyncError
from shared.jobs.worker import ConsumeResult, Worker

log = logging.getLogger(__name__)
_checked: set[int] = set()  # repositories whose pgmq was found good (once per process)

#: The pgmq the queue layer is written for: the functions and columns of pgmq 1.4.4 (hosted
#: Supabase: 1.4.4 on Postgres 15, 1.5.1 on Postgres 17), which every later 1.x keeps.
OLDEST_PGMQ = (1, 4, 4)
SUPPORTED_PGMQ = "1.4.4 or a later 1.x (hosted Supabase: 1.4.4, 1.5.1)"


def pgmq_problem(version: str | None) -> str | None:
    """Why the code cannot run on this pgmq, in one line; None when it can. 'sql' is pgmq
    installed as plain SQL by the local stack's fallback (the PyPI package's 1.13)."""
    if version == "sql":
        return None
    if version is None:
        return f"pgmq is not installed in this database; supported: {SUPPORTED_PGMQ}"
    try:
        parts = tuple(int(p) for p in version.split(".")[:3])
    except ValueError:
        parts = ()
    if len(parts) == 3 and parts[0] == OLDEST_PGMQ[0] and parts >= OLDEST_PGMQ:
        return None
    return f"unsupported pgmq {version}; supported: {SUPPORTED_PGMQ}"


def check_pgmq(repo: QueueStore) -> str:
    """The pgmq version; DatabaseSchemaError (one line) when the code does not know it."""
    version = repo.pgmq_version()
    problem = pgmq_problem(version)
    if problem is not None:
        raise DatabaseSchemaError(problem, sqlstate="0A000", statement="pgmq_version")
    return version or ""


def consume(
    repo: QueueStore, worker: Worker, max_messages: int, max_seconds: float, idle_seconds: float
) -> ConsumeResult:
    """Drain; record the call's outcome. A failure is recorded (best effort: the database may
    be away) and raised again, to be answered as a 5xx with an error id."""
    try:
        if id(repo) not in _checked:
            check_pgmq(repo)
            _checked.add(id(repo))
        result = worker.run(max_messages, max_seconds, idle_seconds)
    except DataError as exc:
        _report(repo, False, exc.message, exc.sqlstate or type(exc).__name__)
        raise
    except Exception as exc:
        _report(repo, False, f"{type(exc).__name__}: {exc}", type(exc).__name__)
        raise
    _report(repo, True)
    return result


def _report(repo: QueueStore, ok: bool, error: str | None = None, code: str | None = None) -> None:
    try:
        repo.queue_consumer_report(ok, error, code)
    except GuildSyncError as exc:
        log.warning("could not record the consumer call's outcome: %s", exc)
