"""The fake database: the tables the in-memory repositories share, as the SQL repositories
share one Postgres. Each role's fake (`tests/fakes/<role>.py`) reads and writes these tables
with the rules of the SQL functions it stands for; writes that SQL does in a trigger (sync
events, character history) happen in the helpers here. Time is `clock` (seconds): `now()` is
the wall time the SQL's `now()` would be, moving with it."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.db.protocol import JSON
from shared.db.snapshots import SnapshotSource
from shared.db.throttle import BudgetAnswer


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
class FakeUser:
    id: str
    battlenet_id: int
    battletag: str | None
    region: str
    login_state: str = "active"
    token_expires_at: datetime | None = None
    auto_sync: str = "on_login"
    game_versions: list[str] = field(default_factory=lambda: ["retail"])
    last_profile_sync_at: datetime | None = None


@dataclass
class FakeToken:
    ciphertext: str
    key_id: str
    expires_at: datetime
    scopes: list[str]


@dataclass
class FakeCharacter:
    id: int
    user_id: str | None
    region: str
    flavor: str
    realm_id: int
    realm_slug: str
    blizzard_id: int
    name: str
    realm_name: str | None = None
    level: int | None = None
    class_id: int | None = None
    class_name: str | None = None
    race_id: int | None = None
    race_name: str | None = None
    faction: str | None = None
    gender: str | None = None
    average_item_level: int | None = None
    equipped_item_level: int | None = None
    guild_id: int | None = None
    guild_rank: int | None = None
    media: JSON | None = None
    avatar_url: str | None = None
    is_active: bool = True
    archived_at: datetime | None = None
    last_modified: datetime | None = None
    last_login_at: datetime | None = None
    enriched_at: datetime | None = None
    refreshed_at: datetime | None = None
    transferred_to: int | None = None
    transferred_from: int | None = None
    created_at: datetime | None = None
    last_seen_in_roster_at: datetime | None = None

    def ref(self) -> JSON:
        return {"id": self.id, "name": self.name, "realm": self.realm_name or self.realm_slug}


@dataclass
class FakeGuild:
    id: int
    region: str
    flavor: str
    blizzard_id: int
    name: str
    slug: str | None
    realm_id: int
    realm_slug: str
    realm_name: str | None = None
    faction: str | None = None
    roster_synced_at: datetime | None = None
    roster_last_modified: datetime | None = None
    member_count: int | None = None


@dataclass
class FakeSession:
    id: str
    user_id: str
    kind: str  # 'account' or 'character'
    total: int
    region: str = "us"
    flavor: str = "retail"
    status: str = "processing"
    processed: int = 0
    failed: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    items: dict[int, str] = field(default_factory=dict)  # character id -> status
    errors: dict[int, str | None] = field(default_factory=dict)
    current: JSON | None = None
    error: str | None = None


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
class DeadLetter:
    msg_id: int
    message: JSON
    reason: str
    archived_at: datetime
    requeued: bool = False


@dataclass
class FakeSnapshot:
    id: int
    character_id: int
    kind: str
    content: JSON
    item_level: int | None
    spec: str | None
    taken_at: datetime


#: The fields the history trigger compares (`record_character_changes`).
TRACKED = (
    "name", "realm_slug", "realm_name", "level", "equipped_item_level", "guild_id",
    "guild_rank", "faction", "race_id", "is_active", "transferred_from",
)  # fmt: skip


class FakeDb:
    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.epoch = datetime.now(UTC) - timedelta(seconds=self.clock.now)
        self._ids = itertools.count(1)
        self._last = self.epoch
        self.users: dict[str, FakeUser] = {}
        self.tokens: dict[str, FakeToken] = {}
        self.oauth_states: dict[str, JSON] = {}
        self.characters: dict[int, FakeCharacter] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.sessions: dict[str, FakeSession] = {}
        self.events: list[JSON] = []  # {id, sessionId, event, data}
        self.history: list[JSON] = []  # {id, characterId, field, from, to, observedAt, source}
        self.queues: dict[str, dict[int, FakeMessage]] = {}
        self.dead: dict[str, list[DeadLetter]] = {}
        self.quota_events: list[tuple[str, str, datetime]] = []  # user, kind, taken at
        self.streams: dict[str, JSON] = {}  # id -> {userId, expiresAt, endsBy}
        self.login_starts: dict[tuple[str, datetime], int] = {}
        self.budget: list[BudgetAnswer] = []  # rate_limit_take's answers, in order
        self.budget_calls: list[tuple[str, int]] = []
        self.breaker: dict[str, Any] = {"open": False, "failures": 0, "refused": 0, "probe_at": 0.0}
        self.snapshot_sources: dict[int, dict[str, SnapshotSource]] = {}
        self.snapshots: list[FakeSnapshot] = []
        self.classes: dict[tuple[str, int], str] = {}  # (flavor, id) -> name
        self.races: dict[tuple[str, int], JSON] = {}
        self.realms: dict[tuple[str, str, int], JSON] = {}  # (region, flavor, id)
        self.consumer_health: JSON = {}
        self.pgmq: str | None = "1.4.4"

    def now(self) -> datetime:
        """The clock's time, a microsecond later than the last call at least (each call is a
        transaction of its own: a later one never sees an earlier time)."""
        now = max(
            self.epoch + timedelta(seconds=self.clock.now), self._last + timedelta(microseconds=1)
        )
        self._last = now
        return now

    def next_id(self) -> int:
        return next(self._ids)

    # --- pgmq ----------------------------------------------------------------------------

    def send(self, queue: str, message: JSON, *, enqueued_at: datetime | None = None) -> int:
        msg_id = self.next_id()
        self.queues.setdefault(queue, {})[msg_id] = FakeMessage(
            msg_id, dict(message), enqueued_at or self.now(), visible_at=self.clock.now
        )
        return msg_id

    # --- sessions and their events (the trigger `character_sync_sessions_events`) ---------

    def add_session(
        self, user_id: str, character_ids: list[int], kind: str = "account", **kw: Any
    ) -> str:
        sid = str(uuid.uuid4())
        total = len(character_ids)
        session = FakeSession(
            sid, str(user_id), kind, total, items={c: "pending" for c in character_ids},
            started_at=self.now(), updated_at=self.now(),
            status="processing" if total else "completed", **kw,
        )  # fmt: skip
        self.sessions[sid] = session
        if session.status == "completed":
            self.emit(session, "sync-complete", complete_payload(session))
        return sid

    def update_session(self, session: FakeSession, **changes: Any) -> None:
        old = replace(session, items=dict(session.items))
        for name, value in changes.items():
            setattr(session, name, value)
        session.updated_at = self.now()
        if session.status == "failed" and old.status != "failed":
            self.emit(session, "sync-error", {"sessionId": session.id, "error": session.error})
            return
        if old.status in ("completed", "failed"):
            return
        if session.current != old.current or session.processed != old.processed:
            self.emit(session, "sync-progress", progress_payload(session))
        if session.status == "completed":
            self.emit(session, "sync-complete", complete_payload(session))

    def emit(self, session: FakeSession, event: str, data: JSON) -> None:
        self.events.append(
            {"id": len(self.events) + 1, "sessionId": session.id, "event": event, "data": data}
        )

    def state_event(self, session: FakeSession) -> JSON:
        if session.status == "completed":
            return {"event": "sync-complete", "data": complete_payload(session)}
        if session.status == "failed":
            return {
                "event": "sync-error",
                "data": {"sessionId": session.id, "error": session.error},
            }
        return {"event": "sync-progress", "data": progress_payload(session)}

    # --- characters and their history (the trigger `record_character_changes`) ------------

    def update_character(self, c: FakeCharacter, source: str, **changes: Any) -> None:
        old = replace(c)
        for name, value in changes.items():
            setattr(c, name, value)
        if all(getattr(old, f) == getattr(c, f) for f in TRACKED):
            return
        for name, before, after in self._changes(old, c):
            self.history.append(
                {
                    "id": len(self.history) + 1, "characterId": c.id, "field": name,
                    "from": before, "to": after, "observedAt": self.now(), "source": source,
                }
            )  # fmt: skip

    def guild_name(self, guild_id: int | None) -> str | None:
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        return None if guild is None else guild.name

    def _changes(self, old: FakeCharacter, new: FakeCharacter) -> list[tuple[str, Any, Any]]:
        out: list[tuple[str, Any, Any]] = []
        if old.name is not None and new.name != old.name:
            out.append(("name", old.name, new.name))
        if new.realm_slug != old.realm_slug or (
            old.realm_name is not None
            and new.realm_name is not None
            and new.realm_name != old.realm_name
        ):
            out.append(
                ("realm", old.realm_name or old.realm_slug, new.realm_name or new.realm_slug)
            )
        for name, attr in (("level", "level"), ("itemLevel", "equipped_item_level")):
            if getattr(old, attr) is not None and getattr(new, attr) != getattr(old, attr):
                out.append((name, getattr(old, attr), getattr(new, attr)))
        if new.guild_id != old.guild_id and (
            old.enriched_at is not None or old.guild_id is not None
        ):
            out.append(("guild", self.guild_name(old.guild_id), self.guild_name(new.guild_id)))
        if (
            new.guild_id == old.guild_id
            and old.guild_rank is not None
            and new.guild_rank is not None
            and new.guild_rank != old.guild_rank
        ):
            out.append(("rank", old.guild_rank, new.guild_rank))
        if old.faction is not None and new.faction != old.faction:
            out.append(("faction", old.faction, new.faction))
        if old.race_id is not None and new.race_id != old.race_id:
            out.append(("race", old.race_name or old.race_id, new.race_name or new.race_id))
        if new.is_active != old.is_active:
            out.append(("active", old.is_active, new.is_active))
        if old.transferred_from is None and new.transferred_from is not None:
            out.append(("transfer", new.transferred_from, new.id))
        return out

    def find_character(
        self, region: str, flavor: str, realm_id: int, blizzard_id: int
    ) -> FakeCharacter | None:
        for c in self.characters.values():
            if (c.region, c.flavor, c.realm_id, c.blizzard_id) == (
                region, flavor, realm_id, blizzard_id,
            ):  # fmt: skip
                return c
        return None

    def insert_character(self, **values: Any) -> FakeCharacter:
        known = {f.name for f in fields(FakeCharacter)}
        kept = {k: v for k, v in values.items() if k in known and k != "id"}
        kept.setdefault("created_at", self.now())
        c = FakeCharacter(id=self.next_id(), **kept)
        self.characters[c.id] = c
        return c


def progress_payload(s: FakeSession) -> JSON:
    return {
        "sessionId": s.id,
        "status": "processing",
        "totalCharacters": s.total,
        "processedCharacters": s.processed,
        "failedCharacters": s.failed,
        "progressPercentage": 100 if s.total == 0 else (100 * s.processed) // s.total,
        "currentCharacter": s.current,
    }


def complete_payload(s: FakeSession) -> JSON:
    return {
        "sessionId": s.id,
        "status": "completed",
        "totalCharacters": s.total,
        "processedCharacters": s.processed,
        "failedCharacters": s.failed,
        "progressPercentage": 100,
    }


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()
