"""Gear and talent snapshots: per kind, where a character's last fetch stood (its own
`Last-Modified` and the profile's at that time), new contents recorded (kept only when they
differ from the newest of their kind), and what owners and guildmates read.

The list, one snapshot and the guild page are the answers' JSON as SQL builds them (only go
out); `snapshot_sources` is typed, as Python decides from it what to fetch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.db.base import SqlStore, UserId, as_id, as_time
from shared.db.protocol import JSON


@dataclass(frozen=True)
class SnapshotSource:
    last_modified: datetime | None  # the kind's own Last-Modified
    profile_modified: datetime | None  # the profile's when the kind was fetched


class SnapshotStore(Protocol):
    def snapshot_sources(self, character_id: int) -> dict[str, SnapshotSource]: ...
    def record_character_snapshots(self, character_id: int, entries: list[JSON]) -> list[int]: ...
    def character_snapshots(self, user_id: UserId, character_id: int, kind: str) -> JSON | None: ...
    def character_snapshot(
        self, user_id: UserId, character_id: int, snapshot_id: int
    ) -> JSON | None: ...
    def guild_page(self, user_id: UserId, guild_id: int) -> JSON | None: ...


class SqlSnapshotStore(SqlStore):
    def snapshot_sources(self, character_id: int) -> dict[str, SnapshotSource]:
        """Per kind fetched before: its own Last-Modified and the profile's at that time."""
        rows: JSON | None = self._call("snapshot_sources", p_character_id=character_id)
        return {
            kind: SnapshotSource(
                as_time(row.get("lastModified")), as_time(row.get("profileModified"))
            )
            for kind, row in (rows or {}).items()
        }

    def record_character_snapshots(self, character_id: int, entries: list[JSON]) -> list[int]:
        """Move each kind's source; store a content unless equal to the newest of its kind.
        Returns the ids of the snapshots stored."""
        result: JSON = self._call(
            "record_character_snapshots", p_character_id=character_id, p_entries=entries
        )
        return [int(i) for i in result["stored"]]

    def character_snapshots(self, user_id: UserId, character_id: int, kind: str) -> JSON | None:
        result: JSON | None = self._call(
            "character_snapshots",
            p_user_id=as_id(user_id),
            p_character_id=character_id,
            p_kind=kind,
        )
        return result

    def character_snapshot(
        self, user_id: UserId, character_id: int, snapshot_id: int
    ) -> JSON | None:
        result: JSON | None = self._call(
            "character_snapshot",
            p_user_id=as_id(user_id),
            p_character_id=character_id,
            p_snapshot_id=snapshot_id,
        )
        return result

    def guild_page(self, user_id: UserId, guild_id: int) -> JSON | None:
        result: JSON | None = self._call(
            "guild_page", p_user_id=as_id(user_id), p_guild_id=guild_id
        )
        return result
