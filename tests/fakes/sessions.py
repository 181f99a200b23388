"""`SessionStore` in memory: an account sync (one running at a time; the characters
deduplicated, reactivated and archived as `upsert_account_characters` does; a session with
no character born completed; one enrichment queued per character), one character's
enrichment (the pending one answered again; a new one counted against the quota, nothing
written past it), each character's start and result (once per character), and the state and
events a watcher reads, as the SQL functions and the events trigger do them."""

from __future__ import annotations

from datetime import datetime

from shared.db.base import UserId
from shared.db.protocol import JSON
from shared.db.sessions import EnrichmentRequest, SyncStart
from tests.fakes.characters import apply_character_profile, upsert_account_characters
from tests.fakes.db import FakeCharacter, FakeDb
from tests.fakes.limits import FakeLimitStore


def enrichment_message(c: FakeCharacter, session_id: str, user_id: str) -> JSON:
    return {
        "type": "enrich_character", "sessionId": session_id, "characterId": c.id,
        "userId": user_id, "region": c.region, "flavor": c.flavor,
        "realmSlug": c.realm_slug, "name": c.name,
    }  # fmt: skip


class FakeSessionStore:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def active_sync_session(self, user_id: UserId) -> str | None:
        for s in self.db.sessions.values():
            if s.user_id == str(user_id) and s.kind == "account" and s.status == "processing":
                return s.id
        return None

    def account_sync_started_since(self, user_id: UserId, since: datetime) -> bool:
        return any(
            s.user_id == str(user_id) and s.kind == "account" and s.started_at >= since
            for s in self.db.sessions.values()
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
        if (active := self.active_sync_session(user_id)) is not None:
            return SyncStart(active, conflict=True)
        user = str(user_id)
        ids = upsert_account_characters(self.db, user, region, flavor, characters, archive_missing)
        sid = self.db.add_session(user, ids, region=region, flavor=flavor)
        for i in ids:
            self.db.send(queue, enrichment_message(self.db.characters[i], sid, user))
        refs = tuple(
            {**c.ref(), "realmSlug": c.realm_slug, "level": c.level}
            for c in (self.db.characters[i] for i in ids)
        )
        return SyncStart(sid, False, refs)

    def enqueue_character_enrichment(
        self,
        user_id: UserId,
        character_id: int,
        queue: str,
        limit: int | None = None,
        window_s: int = 3600,
    ) -> EnrichmentRequest | None:
        c = self.db.characters.get(character_id)
        if c is None or c.user_id != str(user_id):
            return None
        pending = [
            s
            for s in self.db.sessions.values()
            if s.user_id == str(user_id)
            and s.kind == "character"
            and s.status == "processing"
            and s.items.get(c.id) in ("pending", "processing")
        ]
        if pending:
            session = max(pending, key=lambda s: s.started_at)
            job = next(
                (
                    m.msg_id
                    for m in self.db.queues.get(queue, {}).values()
                    if m.message.get("sessionId") == session.id
                ),
                None,
            )
            return EnrichmentRequest(
                {"sessionId": session.id, "jobId": job, "character": c.ref(), "pending": True}
            )
        if limit is not None:
            taken = FakeLimitStore(self.db).quota_take(user_id, "enrich", limit, window_s)
            if not taken.ok:
                return EnrichmentRequest({}, True, taken.retry_after)
        sid = self.db.add_session(
            str(user_id), [c.id], "character", region=c.region, flavor=c.flavor
        )
        job = self.db.send(queue, enrichment_message(c, sid, str(user_id)))
        return EnrichmentRequest(
            {"sessionId": sid, "jobId": job, "character": c.ref(), "pending": False}
        )

    def start_character_item(self, session_id: str, character_id: int) -> bool:
        s = self.db.sessions.get(session_id)
        if (
            s is None
            or s.status != "processing"
            or s.items.get(character_id) not in ("pending", "processing")
        ):
            return False
        s.items[character_id] = "processing"
        if (c := self.db.characters.get(character_id)) is not None:
            self.db.update_session(s, current={**c.ref(), "status": "processing"})
        return True

    def record_character_result(
        self, session_id: str, character_id: int, status: str, error: str | None, data: JSON | None
    ) -> JSON:
        if status not in ("completed", "failed"):
            raise ValueError(f"status must be completed or failed, not {status}")
        s = self.db.sessions.get(session_id)
        if s is None or character_id not in s.items:
            return {"recorded": False, "reason": "unknown"}
        if s.items[character_id] in ("completed", "failed"):
            return {"recorded": False, "reason": "duplicate"}
        if status == "completed" and data is not None:
            apply_character_profile(self.db, character_id, data, "sync")
        s.items[character_id] = status
        s.errors[character_id] = error
        if s.status != "processing":
            return {"recorded": True, "sessionStatus": None}
        c = self.db.characters.get(character_id)
        processed = s.processed + 1
        self.db.update_session(
            s,
            processed=processed,
            failed=s.failed + (status == "failed"),
            current=None if c is None else {**c.ref(), "status": status},
            status="completed" if processed >= s.total else s.status,
        )
        return {"recorded": True, "sessionStatus": s.status}

    def fail_sync_session(self, session_id: str, error: str) -> None:
        s = self.db.sessions.get(session_id)
        if s is not None and s.status in ("pending", "processing"):
            self.db.update_session(s, status="failed", error=error)

    def get_sync_state(self, session_id: str, user_id: UserId | None) -> JSON | None:
        s = self.db.sessions.get(session_id)
        if s is None or (user_id is not None and s.user_id != str(user_id)):
            return None
        last = max((e["id"] for e in self.db.events if e["sessionId"] == s.id), default=0)
        return {**self.db.state_event(s), "lastEventId": last}

    def sync_events_since(self, session_id: str, after: int) -> list[JSON]:
        return [
            {"id": e["id"], "event": e["event"], "data": e["data"]}
            for e in self.db.events
            if e["sessionId"] == session_id and e["id"] > after
        ]
