"""`SnapshotStore` in memory: each kind's source moved (its Last-Modified kept when none
comes), a content stored unless equal to the newest of its kind, and what owners and
guildmates may read (anyone else: None), as the SQL functions do them."""

from __future__ import annotations

from shared.db.base import UserId, as_time
from shared.db.protocol import JSON
from shared.db.snapshots import SnapshotSource
from tests.fakes.db import FakeDb, FakeSnapshot


class FakeSnapshotStore:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def snapshot_sources(self, character_id: int) -> dict[str, SnapshotSource]:
        return dict(self.db.snapshot_sources.get(character_id, {}))

    def record_character_snapshots(self, character_id: int, entries: list[JSON]) -> list[int]:
        if character_id not in self.db.characters:
            return []
        stored = []
        sources = self.db.snapshot_sources.setdefault(character_id, {})
        for e in entries:
            kind = e["kind"]
            previous = sources.get(kind)
            last = as_time(e.get("lastModified")) or (previous.last_modified if previous else None)
            sources[kind] = SnapshotSource(last, as_time(e.get("profileModified")))
            if not isinstance(e.get("content"), dict):
                continue
            newest = self._of(character_id, kind)
            if newest and newest[0].content == e["content"]:
                continue
            snapshot = FakeSnapshot(
                self.db.next_id(), character_id, kind, e["content"], e.get("itemLevel"),
                e.get("spec"), self.db.now(),
            )  # fmt: skip
            self.db.snapshots.append(snapshot)
            stored.append(snapshot.id)
        return stored

    def character_snapshots(self, user_id: UserId, character_id: int, kind: str) -> JSON | None:
        if not self._readable(user_id, character_id):
            return None
        listed = []
        for s in self._of(character_id, kind):
            item = {"id": s.id, "takenAt": s.taken_at.isoformat(), "itemLevel": s.item_level,
                    "spec": s.spec}  # fmt: skip
            listed.append({k: v for k, v in item.items() if v is not None})
        return {"characterId": character_id, "kind": kind, "snapshots": listed}

    def character_snapshot(
        self, user_id: UserId, character_id: int, snapshot_id: int
    ) -> JSON | None:
        found = next(
            (s for s in self.db.snapshots if (s.id, s.character_id) == (snapshot_id, character_id)),
            None,
        )
        if found is None or not self._readable(user_id, character_id):
            return None
        head = {"id": found.id, "kind": found.kind, "takenAt": found.taken_at.isoformat()}
        if found.kind == "equipment":
            return {**head, "items": found.content.get("items") or []}
        return {
            **head,
            "spec": found.content.get("spec"),
            "loadoutCode": found.content.get("loadoutCode"),
            "talents": found.content.get("talents") or [],
        }

    def guild_page(self, user_id: UserId, guild_id: int) -> JSON | None:
        g = self.db.guilds.get(guild_id)
        members = [c for c in self.db.characters.values() if c.guild_id == guild_id and c.is_active]
        if g is None or not any(c.user_id == str(user_id) for c in members):
            return None
        realm = self.db.realms.get((g.region, g.flavor, g.realm_id)) or {}

        def order(c: object) -> tuple[bool, int, str, int]:
            rank = getattr(c, "guild_rank", None)
            return (rank is None, rank or 0, getattr(c, "name", ""), getattr(c, "id", 0))

        return {
            "id": g.id,
            "name": g.name,
            "realm": g.realm_name or realm.get("name") or g.realm_slug,
            "connectedRealmId": realm.get("connected_realm_id"),
            "members": [
                {
                    "id": c.id, "name": c.name,
                    "realm": self._realm_name(c.region, c.flavor, c.realm_id)
                    or c.realm_name or c.realm_slug,
                    "level": c.level,
                    "class": c.class_name or self.db.classes.get((c.flavor, c.class_id or 0)),
                    "rank": c.guild_rank,
                }
                for c in sorted(members, key=order)
            ],
        }  # fmt: skip

    def _realm_name(self, region: str, flavor: str, realm_id: int) -> str | None:
        realm = self.db.realms.get((region, flavor, realm_id))
        return None if realm is None else realm.get("name")

    def _of(self, character_id: int, kind: str) -> list[FakeSnapshot]:
        """Newest first."""
        found = [s for s in self.db.snapshots if (s.character_id, s.kind) == (character_id, kind)]
        return sorted(found, key=lambda s: (s.taken_at, s.id), reverse=True)

    def _readable(self, user_id: UserId, character_id: int) -> bool:
        """The owner, or a user with an active character in the same guild."""
        c = self.db.characters.get(character_id)
        if c is None:
            return False
        if c.user_id == str(user_id):
            return True
        return c.guild_id is not None and any(
            m.guild_id == c.guild_id and m.user_id == str(user_id) and m.is_active
            for m in self.db.characters.values()
        )
