"""`QueueStore` in memory: pgmq's visibility timeouts and read counts, deliveries settled only
as themselves, fair claims that rotate between users, pauses that give the attempt back, dead
letters kept with their reason and put back (an enrichment only while its session is the
latest, the character's failure undone), the consumer's health, and the scheduled jobs'
bodies. The jobs' selection here is the simple rule of each (what is stale is queued once);
their exact cadences are tested on Postgres (tests/integration/test_background_sql.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from shared.db.protocol import JSON
from shared.db.queue import JOBS, Completed, Delivery, Finished, Record, SettleAction
from tests.fakes.characters import FakeCharacterStore, refresh_message
from tests.fakes.db import DeadLetter, FakeDb, FakeGuild
from tests.fakes.sessions import FakeSessionStore


def roster_message(g: FakeGuild) -> JSON:
    return {
        "type": "guild_roster", "guildId": g.id, "region": g.region, "flavor": g.flavor,
        "realmSlug": g.realm_slug, "slug": g.slug,
        "lastModified": g.roster_last_modified.isoformat() if g.roster_last_modified else None,
    }  # fmt: skip


class FakeQueueStore:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def queue_claim(
        self, queue: str, visibility_timeout: int, qty: int, fair: bool
    ) -> list[Delivery]:
        now = self.db.clock.now
        visible = [m for m in self.db.queues.get(queue, {}).values() if m.visible_at <= now]
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
            m.visible_at = now + visibility_timeout
            claimed.append(
                Delivery(queue, m.msg_id, m.read_ct, m.attempts, m.enqueued_at, dict(m.message))
            )
        return claimed

    def queue_claim_first(
        self, wanted: Sequence[tuple[str, int, bool]], visibility_timeout: int
    ) -> tuple[str, list[Delivery]] | None:
        for queue, qty, fair in wanted:
            claimed = self.queue_claim(queue, visibility_timeout, qty, fair)
            if claimed:
                return queue, claimed
        return None

    def apply_record(self, record: Record) -> None:
        """`apply_job_record`: what a finished job records, by kind."""
        f = record.fields
        if record.kind == "character_refresh":
            FakeCharacterStore(self.db).record_character_refresh(
                int(f["characterId"]), f["result"], f["data"]
            )
        elif record.kind == "character_result":
            FakeSessionStore(self.db).record_character_result(
                str(f["sessionId"]), int(f["characterId"]), f["status"], f["error"], f["data"]
            )
        else:
            raise ValueError(f"unknown job record kind {record.kind}")

    def queue_complete(self, queue: str, finished: Sequence[Finished]) -> Completed:
        deleted: set[int] = set()
        failed: dict[int, str] = {}
        for f in finished:
            try:
                if f.record is not None:
                    self.apply_record(f.record)
            except Exception as exc:
                failed[f.delivery.msg_id] = str(exc)
                continue
            if FakeQueueStore.queue_settle(self, f.delivery, "delete"):
                deleted.add(f.delivery.msg_id)
        return Completed(frozenset(deleted), failed)

    def queue_settle(
        self, delivery: Delivery, action: SettleAction, seconds: int = 0, reason: str | None = None
    ) -> bool:
        queue = self.db.queues.get(delivery.queue, {})
        m = queue.get(delivery.msg_id)
        if m is None or m.read_ct != delivery.read_ct:
            return False
        if action == "delete":
            del queue[m.msg_id]
        elif action in ("retry", "pause"):
            m.visible_at = self.db.clock.now + seconds
            if action == "pause":
                m.attempts -= 1
                m.paused = reason or "paused"
        else:
            del queue[m.msg_id]
            self.db.dead.setdefault(delivery.queue, []).append(
                DeadLetter(m.msg_id, m.message, reason or "dead", self.db.now())
            )
        return True

    def queue_extend(self, queue: str, deliveries: Sequence[Delivery], seconds: int) -> int:
        count = 0
        for d in deliveries:
            m = self.db.queues.get(queue, {}).get(d.msg_id)
            if m is not None and m.read_ct == d.read_ct:
                m.visible_at = max(m.visible_at, self.db.clock.now + seconds)
                count += 1
        return count

    def queue_depths(self) -> dict[str, int]:
        return {q: len(ms) for q, ms in self.db.queues.items()}

    def queue_status(self) -> JSON:
        now, day_ago = self.db.now(), self.db.now() - timedelta(days=1)
        queues = {}
        for name in sorted(set(self.db.queues) | set(self.db.dead)):
            messages = list(self.db.queues.get(name, {}).values())
            oldest = min((m.enqueued_at for m in messages), default=now)
            queues[name] = {
                "depth": len(messages),
                "oldestMessageAgeSeconds": round((now - oldest).total_seconds(), 1),
                "deadLettersLastDay": sum(
                    1 for d in self.db.dead.get(name, []) if d.archived_at > day_ago
                ),
            }
        paused = {
            name: sum(1 for m in ms.values() if m.paused and m.visible_at > self.db.clock.now)
            for name, ms in sorted(self.db.queues.items())
        }
        breaker = {"open": self.db.breaker["open"], "failures": self.db.breaker["failures"]}
        consumer = {"pgmq": self.db.pgmq, **self.db.consumer_health}
        return {"queues": queues, "pausedJobs": paused, "breaker": breaker, "consumer": consumer}

    def queue_consumer_report(
        self, ok: bool, error: str | None = None, code: str | None = None
    ) -> None:
        health = self.db.consumer_health
        health["lastRunAt"] = self.db.now().isoformat()
        health["runs"] = int(health.get("runs", 0)) + 1
        if ok:
            health["lastSuccessAt"] = health["lastRunAt"]
            health["errorsSinceLastSuccess"] = 0
        else:
            health["lastError"] = {"message": error, "code": code, "at": health["lastRunAt"]}
            health["errorsSinceLastSuccess"] = int(health.get("errorsSinceLastSuccess", 0)) + 1

    def pgmq_version(self) -> str | None:
        return self.db.pgmq

    def requeue_dead_letters(
        self, queue: str | None, since: datetime | None, reason: str | None, limit: int
    ) -> JSON:
        sent = skipped = 0
        by_queue: dict[str, int] = {}
        for name in sorted(self.db.dead):
            if queue is not None and name != queue:
                continue
            for d in sorted(self.db.dead[name], key=lambda d: d.msg_id):
                if sent + skipped >= limit:
                    break
                if d.requeued or (since is not None and d.archived_at < since):
                    continue
                if reason is not None and reason.lower() not in d.reason.lower():
                    continue
                d.requeued = True
                if d.message.get("type") == "enrich_character" and not self._undo_failure(d):
                    skipped += 1
                    continue
                self.db.send(name, d.message)
                sent += 1
                by_queue[name] = by_queue.get(name, 0) + 1
        return {"requeued": sent, "skipped": skipped, "byQueue": by_queue}

    def _undo_failure(self, dead: DeadLetter) -> bool:
        """Only while its session is the user's latest of its kind (for that character):
        the character's failure undone and the session processing again."""
        session = self.db.sessions.get(str(dead.message.get("sessionId")))
        character = int(dead.message.get("characterId", 0))
        if session is None:
            return False
        latest = max(
            (
                s
                for s in self.db.sessions.values()
                if s.user_id == session.user_id
                and s.kind == session.kind
                and (s.kind == "account" or character in s.items)
            ),
            key=lambda s: s.started_at,
        )
        if latest.id != session.id:
            return False
        undone = int(session.items.get(character) == "failed")
        if undone:
            session.items[character] = "pending"
        session.status, session.error = "processing", None
        session.processed -= undone
        session.failed -= undone
        return True

    def run_job(self, name: str) -> int:
        if name not in JOBS:
            raise ValueError(f"unknown job {name!r}")
        return getattr(self, f"_{name}")()  # type: ignore[no-any-return]

    def _enqueue_bulk_work(self) -> int:
        """The hourly plan: account syncs, rosters and characters that are due (the budget's
        sizing of the plan is tested on Postgres, tests/integration/test_bulk_plan_sql.py)."""
        return (
            self._enqueue_profile_refreshes()
            + self._enqueue_guild_rosters()
            + self._enqueue_character_refreshes()
        )

    def _enqueue_static_sync(self) -> int:
        if self.db.queues.get("static_data"):
            return 0
        self.db.send("static_data", {"type": "static_data"})
        return 1

    def _enqueue_profile_refreshes(self) -> int:
        """Users on daily auto-sync with a valid login, not synced for 20 hours: one
        scheduled account sync per listed game version."""
        now, count = self.db.now(), 0
        for u in self.db.users.values():
            stale = u.last_profile_sync_at is None or (
                u.last_profile_sync_at < now - timedelta(hours=20)
            )
            valid = u.login_state == "active" and (u.token_expires_at or now) > now
            if u.auto_sync == "daily" and valid and stale:
                for version in u.game_versions:
                    self.db.send(
                        "profile_sync",
                        {"type": "profile_sync", "userId": u.id, "gameVersion": version,
                         "reason": "scheduled"},
                    )  # fmt: skip
                    count += 1
        return count

    def _enqueue_character_refreshes(self) -> int:
        """Active characters not refreshed (or enriched) for a day, not already queued."""
        now = self.db.now()
        queued = {
            m.message.get("characterId")
            for m in self.db.queues.get("character_refresh", {}).values()
        }
        due = [
            c
            for c in self.db.characters.values()
            if c.is_active
            and c.id not in queued
            and (c.refreshed_at or c.enriched_at or self.db.epoch) < now - timedelta(days=1)
        ]
        for c in due:
            self.db.send("character_refresh", refresh_message(c))
        return len(due)

    def _enqueue_guild_rosters(self) -> int:
        """Guilds with a registered member whose roster is 20 hours old, not already queued."""
        now = self.db.now()
        queued = {m.message.get("guildId") for m in self.db.queues.get("guild_roster", {}).values()}
        due = [
            g
            for g in self.db.guilds.values()
            if any(c.guild_id == g.id and c.user_id for c in self.db.characters.values())
            and (g.roster_synced_at is None or g.roster_synced_at < now - timedelta(hours=20))
            and g.id not in queued
        ]
        for g in due:
            self.db.send("guild_roster", roster_message(g))
        return len(due)

    def _expire_stuck_sessions(self) -> int:
        """Sessions without progress for 30 minutes fail (sync-error)."""
        limit = self.db.now() - timedelta(minutes=30)
        stuck = [
            s
            for s in self.db.sessions.values()
            if s.status in ("pending", "processing") and s.updated_at < limit
        ]
        for s in stuck:
            self.db.update_session(
                s, status="failed", error="the sync made no progress for 00:30:00 and was stopped"
            )
        return len(stuck)
