"""Fakes shared by unit tests: a clock, and an in-memory `Repository` (as cosmicpython's
FakeRepository) so services, jobs and the worker get millisecond tests. The real SQL behind
each method is tested on Postgres in tests/integration."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.db.protocol import JSON
from shared.db.repository import BudgetAnswer, Delivery, SettleAction, UserId


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or a test says)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeMessage:
    msg_id: int
    message: JSON
    enqueued_at: datetime
    read_ct: int = 0
    attempts: int = 0
    visible_at: float = 0.0
    paused: str | None = None


@dataclass
class FakeSession:
    id: str
    user_id: str
    kind: str
    total: int
    status: str = "processing"
    processed: int = 0
    failed: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    items: dict[int, str] = field(default_factory=dict)


class FakeRepository:
    """An in-memory `Repository`. Queue time is `clock` (seconds); `budget` answers
    `rate_limit_take` in order (granting everything when it runs out)."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.queues: dict[str, dict[int, FakeMessage]] = {}
        self.dead: dict[str, list[tuple[JSON, str]]] = {}
        self.sessions: dict[str, FakeSession] = {}
        self.users: dict[str, JSON] = {}
        self.budget: list[BudgetAnswer] = []
        self.budget_calls: list[tuple[str, int]] = []
        self.refreshes: list[tuple[int, str]] = []
        self.snapshot_state: dict[int, dict[str, JSON]] = {}
        self.snapshots: dict[tuple[int, str], list[JSON]] = {}
        self.relogin: set[str] = set()
        self.breaker: dict[str, Any] = {"open": False, "failures": 0, "refused": 0, "probe_at": 0.0}
        self.consumer_health: dict[str, Any] = {}
        self.pgmq: str | None = "1.4.4"
        self._ids = itertools.count(1)

    # --- helpers for tests ------------------------------------------------------------------

    def send(self, queue: str, message: JSON, *, enqueued_at: datetime | None = None) -> int:
        msg_id = next(self._ids)
        self.queues.setdefault(queue, {})[msg_id] = FakeMessage(
            msg_id, message, enqueued_at or datetime.now(UTC), visible_at=self.clock.now
        )
        return msg_id

    def add_session(self, user_id: str, character_ids: list[int], kind: str = "account") -> str:
        sid = str(uuid.uuid4())
        self.sessions[sid] = FakeSession(
            sid, user_id, kind, len(character_ids), items={c: "pending" for c in character_ids}
        )
        return sid

    # --- queues -----------------------------------------------------------------------------

    def queue_claim(
        self, queue: str, visibility_timeout: int, qty: int, fair: bool
    ) -> list[Delivery]:
        visible = [m for m in self.queues.get(queue, {}).values() if m.visible_at <= self.clock.now]
        visible.sort(key=lambda m: m.msg_id)
        if fair:
            turns: dict[str, int] = {}
            ranked = []
            for m in visible:
                who = str(m.message.get("userId", m.msg_id))
                turns[who] = turns.get(who, 0) + 1
                ranked.append((turns[who], m.msg_id, m))
            visible = [m for _, _, m in sorted(ranked, key=lambda r: (r[0], r[1]))]
        claimed = []
        for m in visible[:qty]:
            m.read_ct += 1
            m.attempts += 1
            m.paused = None
            m.visible_at = self.clock.now + visibility_timeout
            claimed.append(
                Delivery(queue, m.msg_id, m.read_ct, m.attempts, m.enqueued_at, dict(m.message))
            )
        return claimed

    def queue_settle(
        self, delivery: Delivery, action: SettleAction, seconds: int = 0, reason: str | None = None
    ) -> bool:
        queue = self.queues.get(delivery.queue, {})
        m = queue.get(delivery.msg_id)
        if m is None or m.read_ct != delivery.read_ct:
            return False
        if action == "delete":
            del queue[m.msg_id]
        elif action in ("retry", "pause"):
            m.visible_at = self.clock.now + seconds
            if action == "pause":
                m.attempts -= 1
                m.paused = reason or "paused"
        else:
            del queue[m.msg_id]
            self.dead.setdefault(delivery.queue, []).append((m.message, reason or "dead"))
        return True

    def queue_extend(self, queue: str, deliveries: Sequence[Delivery], seconds: int) -> int:
        count = 0
        for d in deliveries:
            m = self.queues.get(queue, {}).get(d.msg_id)
            if m is not None and m.read_ct == d.read_ct:
                m.visible_at = max(m.visible_at, self.clock.now + seconds)
                count += 1
        return count

    def queue_depths(self) -> dict[str, int]:
        return {q: len(ms) for q, ms in self.queues.items()}

    def queue_status(self) -> JSON:
        return {"queues": self.queue_depths(), "consumer": dict(self.consumer_health)}

    def queue_consumer_report(
        self, ok: bool, error: str | None = None, code: str | None = None
    ) -> None:
        health = self.consumer_health
        health["runs"] = int(health.get("runs", 0)) + 1
        if ok:
            health["errorsSinceLastSuccess"] = 0
        else:
            health["lastError"] = {"message": error, "code": code}
            health["errorsSinceLastSuccess"] = int(health.get("errorsSinceLastSuccess", 0)) + 1

    def pgmq_version(self) -> str | None:
        return self.pgmq

    def rate_limit_take(
        self,
        bucket: str,
        want: int,
        budget_class: str,
        per_second: int,
        per_window: int,
        window_s: int,
        reserve: float,
    ) -> BudgetAnswer:
        self.budget_calls.append((budget_class, want))
        return self.budget.pop(0) if self.budget else BudgetAnswer(want, 0.0, None)

    # --- sessions ---------------------------------------------------------------------------

    def start_character_item(self, session_id: str, character_id: int) -> bool:
        s = self.sessions.get(session_id)
        if (
            s is None
            or s.status != "processing"
            or s.items.get(character_id)
            not in (
                "pending",
                "processing",
            )
        ):
            return False
        s.items[character_id] = "processing"
        return True

    def record_character_result(
        self, session_id: str, character_id: int, status: str, error: str | None, data: JSON | None
    ) -> JSON:
        s = self.sessions[session_id]
        if s.items.get(character_id) in ("completed", "failed"):
            return {"recorded": False, "reason": "duplicate"}
        s.items[character_id] = status
        s.processed += 1
        s.failed += status == "failed"
        if s.processed >= s.total and s.status == "processing":
            s.status = "completed"
        return {"recorded": True, "sessionStatus": s.status}

    def active_sync_session(self, user_id: UserId) -> str | None:
        for s in self.sessions.values():
            if s.user_id == str(user_id) and s.kind == "account" and s.status == "processing":
                return s.id
        return None

    def account_sync_started_since(self, user_id: UserId, since: datetime) -> bool:
        return any(
            s.user_id == str(user_id) and s.kind == "account" and s.started_at >= since
            for s in self.sessions.values()
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
    ) -> JSON:
        if (active := self.active_sync_session(user_id)) is not None:
            return {"conflict": True, "sessionId": active}
        ids = [int(c["blizzard_id"]) for c in characters]
        sid = self.add_session(str(user_id), ids)
        for c in characters:
            self.send(
                queue,
                {
                    "type": "enrich_character",
                    "sessionId": sid,
                    "characterId": int(c["blizzard_id"]),
                    "userId": str(user_id),
                    "region": region,
                    "flavor": flavor,
                    "realmSlug": c["realm_slug"],
                    "name": c["name"],
                },
            )
        refs = [{"id": i, "name": c["name"]} for i, c in zip(ids, characters, strict=True)]
        return {"conflict": False, "sessionId": sid, "characters": refs}

    def fail_sync_session(self, session_id: str, error: str) -> None:
        self.sessions[session_id].status = "failed"

    # --- users ------------------------------------------------------------------------------

    def get_user_token(self, user_id: UserId) -> JSON | None:
        return self.users.get(str(user_id))

    def mark_relogin_required(self, user_id: UserId) -> None:
        self.relogin.add(str(user_id))

    def record_character_refresh(self, character_id: int, result: str, data: JSON | None) -> None:
        self.refreshes.append((character_id, result))

    # --- snapshots ---------------------------------------------------------------------------

    def snapshot_sources(self, character_id: int) -> JSON:
        return dict(self.snapshot_state.get(character_id, {}))

    def record_character_snapshots(self, character_id: int, entries: list[JSON]) -> JSON:
        """As the SQL: move each kind's source, store a content unlike the newest one."""
        stored = []
        for e in entries:
            kind = e["kind"]
            state = self.snapshot_state.setdefault(character_id, {})
            previous = state.get(kind, {})
            state[kind] = {
                "lastModified": e.get("lastModified") or previous.get("lastModified"),
                "profileModified": e.get("profileModified"),
            }
            kept = self.snapshots.setdefault((character_id, kind), [])
            if "content" in e and (not kept or kept[-1] != e["content"]):
                kept.append(e["content"])
                stored.append(len(kept))
        return {"stored": stored}

    # --- outages ----------------------------------------------------------------------------

    def breaker_state(self, bucket: str, refused: int) -> JSON:
        self.breaker["refused"] += refused
        return {"open": self.breaker["open"], "failures": self.breaker["failures"]}

    def breaker_report(self, bucket: str, ok: bool, threshold: int, error: str | None) -> JSON:
        if ok:
            self.breaker.update(open=False, failures=0)
        else:
            self.breaker["failures"] += 1
            self.breaker["open"] = self.breaker["open"] or self.breaker["failures"] >= threshold
        return {"open": self.breaker["open"], "failures": self.breaker["failures"]}

    def breaker_claim_probe(self, bucket: str, interval_ms: int) -> bool:
        if not self.breaker["open"] or self.clock.now < self.breaker["probe_at"]:
            return False
        self.breaker["probe_at"] = self.clock.now + interval_ms / 1000
        return True

    # --- what the unit tests do not reach ---------------------------------------------------

    def _unused(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("not faked: test this on Postgres")

    upsert_static_data = save_oauth_state = consume_login_state = upsert_login = _unused
    find_user_id = _unused
    enqueue_character_enrichment = get_sync_state = sync_events_since = _unused
    list_user_characters = refresh_account_characters = apply_guild_roster = _unused
    touch_guild_roster = run_job = requeue_dead_letters = prune_characters = _unused
    character_snapshots = character_snapshot = guild_page = _unused
    character_history = get_sync_preferences = set_sync_preferences = _unused


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()
