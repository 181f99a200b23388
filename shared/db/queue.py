"""The queues (pgmq, through SQL functions of `public`): claim, settle, extend and count
deliveries, the consumer's health, dead letters put back, and the scheduled jobs' bodies.

`queue_status` and `requeue_dead_letters` answer the operator as SQL builds them (JSON that
only goes out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

from shared.db.base import SqlStore, iso
from shared.db.protocol import JSON
from shared.db.throttle import BudgetClass


class Queue(StrEnum):
    """The pgmq queues the SQL enqueues into, with the class of budget their work spends:
    interactive work (a user's sync, an enrichment, a login's first sync) may use the whole
    Battle.net budget and is claimed fairly between users; bulk work is paced."""

    CHARACTER_SYNC = "character_sync"  # interactive: logins' profile syncs, users' enrichments
    PROFILE_SYNC = "profile_sync"  # scheduled daily account syncs
    STATIC_DATA = "static_data"  # scheduled monthly static data
    GUILD_ROSTER = "guild_roster"  # scheduled daily rosters
    CHARACTER_REFRESH = "character_refresh"  # scheduled stale-character refreshes

    @property
    def budget_class(self) -> BudgetClass:
        return BudgetClass.INTERACTIVE if self is Queue.CHARACTER_SYNC else BudgetClass.BULK

    @property
    def fair(self) -> bool:
        """Claims rotate between users (one user's flood cannot delay the others)."""
        return self is Queue.CHARACTER_SYNC


SettleAction = Literal["delete", "retry", "pause", "dead"]
RecordKind = Literal["character_refresh", "character_result"]

#: The scheduled jobs' bodies (what pg_cron runs), callable by hand.
JOBS = (
    "enqueue_bulk_work",
    "enqueue_profile_refreshes",
    "enqueue_character_refreshes",
    "enqueue_static_sync",
    "enqueue_guild_rosters",
    "expire_stuck_sessions",
)


@dataclass(frozen=True)
class Delivery:
    """One delivery of a queued message: `read_ct` names the delivery (settling a stale one is
    refused), `attempts` is the job's count of attempts including this one."""

    queue: str
    msg_id: int
    read_ct: int
    attempts: int
    enqueued_at: datetime
    message: JSON

    @classmethod
    def from_json(cls, queue: str, row: JSON) -> Delivery:
        enqueued = row["enqueuedAt"]
        return cls(
            queue=queue,
            msg_id=int(row["msgId"]),
            read_ct=int(row["readCt"]),
            attempts=int(row.get("attempts") or row["readCt"]),
            enqueued_at=enqueued
            if isinstance(enqueued, datetime)
            else datetime.fromisoformat(enqueued),
            message=row["message"],
        )


@dataclass(frozen=True)
class Record:
    """What a finished job records (a refresh's outcome, a session character's result and the
    session's progress): written with its delivery's delete, a batch in one round trip
    (`queue_complete`; `apply_job_record` in SQL applies each kind)."""

    kind: RecordKind
    fields: JSON

    def as_json(self) -> JSON:
        return {"kind": self.kind, **self.fields}


@dataclass(frozen=True)
class Finished:
    """A delivery whose job is done, what it records (None: nothing to record) and the
    Battle.net requests it made (`job_costs`, what the scheduler plans with)."""

    delivery: Delivery
    record: Record | None = None
    requests: int = 0


@dataclass(frozen=True)
class Completed:
    """What `queue_complete` did: the messages deleted, and the deliveries whose record failed
    (their messages kept, by msg_id, with the error)."""

    deleted: frozenset[int]
    failed: dict[int, str]


class QueueStore(Protocol):
    def queue_claim(
        self, queue: str, visibility_timeout: int, qty: int, fair: bool
    ) -> list[Delivery]: ...
    def queue_claim_first(
        self, wanted: Sequence[tuple[str, int, bool]], visibility_timeout: int
    ) -> tuple[str, list[Delivery]] | None: ...
    def queue_settle(
        self, delivery: Delivery, action: SettleAction, seconds: int = 0, reason: str | None = None
    ) -> bool: ...
    def queue_complete(self, queue: str, finished: Sequence[Finished]) -> Completed: ...
    def queue_extend(self, queue: str, deliveries: Sequence[Delivery], seconds: int) -> int: ...
    def queue_depths(self) -> dict[str, int]: ...
    def queue_status(self) -> JSON: ...
    def queue_consumer_report(
        self, ok: bool, error: str | None = None, code: str | None = None
    ) -> None: ...
    def pgmq_version(self) -> str | None: ...
    def requeue_dead_letters(
        self, queue: str | None, since: datetime | None, reason: str | None, limit: int
    ) -> JSON: ...
    def run_job(self, name: str) -> int: ...


class SqlQueueStore(SqlStore):
    def queue_claim(
        self, queue: str, visibility_timeout: int, qty: int, fair: bool
    ) -> list[Delivery]:
        rows: list[JSON] = self._call(
            "queue_claim", p_queue=queue, p_vt=visibility_timeout, p_qty=qty, p_fair=fair
        )
        return [Delivery.from_json(queue, r) for r in rows]

    def queue_claim_first(
        self, wanted: Sequence[tuple[str, int, bool]], visibility_timeout: int
    ) -> tuple[str, list[Delivery]] | None:
        """The next batch from the first queue of `wanted` ((queue, qty, fair), in priority
        order) with visible work, in one round trip; None when all are empty."""
        found: JSON | None = self._call(
            "queue_claim_first",
            p_queues=[{"queue": q, "qty": qty, "fair": fair} for q, qty, fair in wanted],
            p_vt=visibility_timeout,
        )
        if not found:
            return None
        queue = str(found["queue"])
        return queue, [Delivery.from_json(queue, r) for r in found["deliveries"]]

    def queue_complete(self, queue: str, finished: Sequence[Finished]) -> Completed:
        """Apply each finished delivery's record and delete its message (only as the delivery
        it was), a batch of one queue in one round trip."""
        if not finished:
            return Completed(frozenset(), {})
        items = [
            {
                "msgId": f.delivery.msg_id,
                "readCt": f.delivery.read_ct,
                "record": f.record.as_json() if f.record else None,
                "cost": {"job": f.delivery.message.get("type"), "requests": f.requests},
            }
            for f in finished
        ]
        result: JSON = self._call("queue_complete", p_queue=queue, p_items=items)
        return Completed(
            frozenset(int(m) for m in result["deleted"]),
            {int(f["msgId"]): str(f["error"]) for f in result["failed"]},
        )

    def queue_settle(
        self, delivery: Delivery, action: SettleAction, seconds: int = 0, reason: str | None = None
    ) -> bool:
        """Settle this delivery only (False when the message was claimed again since)."""
        return bool(
            self._call(
                "queue_settle",
                p_queue=delivery.queue,
                p_msg_id=delivery.msg_id,
                p_read_ct=delivery.read_ct,
                p_action=action,
                p_seconds=seconds,
                p_reason=reason,
            )
        )

    def queue_extend(self, queue: str, deliveries: Sequence[Delivery], seconds: int) -> int:
        if not deliveries:
            return 0
        rows = [{"msgId": d.msg_id, "readCt": d.read_ct} for d in deliveries]
        return int(self._call("queue_extend", p_queue=queue, p_deliveries=rows, p_seconds=seconds))

    def queue_depths(self) -> dict[str, int]:
        result: dict[str, int] = self._call("queue_depths")
        return {k: int(v) for k, v in result.items()}

    def queue_status(self) -> JSON:
        result: JSON = self._call("queue_status")
        return result

    def queue_consumer_report(
        self, ok: bool, error: str | None = None, code: str | None = None
    ) -> None:
        self._call("queue_consumer_report", p_ok=ok, p_error=error, p_code=code)

    def pgmq_version(self) -> str | None:
        version = self._call("pgmq_version")
        return None if version is None else str(version)

    def requeue_dead_letters(
        self, queue: str | None, since: datetime | None, reason: str | None, limit: int
    ) -> JSON:
        result: JSON = self._call(
            "requeue_dead_letters",
            p_queue=queue,
            p_since=iso(since),
            p_reason=reason,
            p_limit=limit,
        )
        return result

    def run_job(self, name: str) -> int:
        """Run a scheduled job's body now (what pg_cron runs)."""
        if name not in JOBS:
            raise ValueError(f"unknown job {name!r}")
        return int(self._call(name))
