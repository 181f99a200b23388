"""Characters and guilds outside a session: what a user reads of their characters (the list,
one character's history of changes), the scheduled account refresh (the same deduplication as
a sync, then one conditional refresh each), a refresh's result, and guild rosters.

Characters no user needs (no user, unseen in any roster for a while) are pruned with their
snapshots and history, memberless guilds with them (`prune_characters`: the daily job's body;
its answer `{characters, snapshots, history, guilds, rowsRemoved, batches, more, ...}` only goes
out as JSON).

The list and the history are the answers' JSON as SQL builds them (`list_user_characters`:
`[{id, name, realm, realmSlug, region, flavor, connectedRealmId, ...}]`; `character_history`:
`{characterId, changes}`); Python only groups the list by connected realm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from shared.db.base import SqlStore, UserId, as_id, iso
from shared.db.protocol import JSON
from shared.db.queue import Record

RefreshOutcome = Literal["modified", "not_modified", "archived"]


def refresh_record(character_id: int, result: RefreshOutcome, data: JSON | None) -> Record:
    """`record_character_refresh`, written with the refresh's delivery (`queue_complete`)."""
    return Record(
        "character_refresh", {"characterId": character_id, "result": result, "data": data}
    )


@dataclass(frozen=True)
class RosterApplied:
    members: int
    left: int  # members unlinked: no longer in the roster


class CharacterStore(Protocol):
    def list_user_characters(self, user_id: UserId) -> list[JSON]: ...
    def character_history(
        self, user_id: UserId | None, character_id: int, since: datetime | None, limit: int
    ) -> JSON | None: ...
    def refresh_account_characters(
        self,
        *,
        user_id: UserId,
        region: str,
        flavor: str,
        characters: list[JSON],
        archive_missing: bool,
        queue: str,
    ) -> int: ...
    def apply_guild_roster(
        self, guild_id: int, members: list[JSON], last_modified: str | None, member_count: int
    ) -> RosterApplied | None: ...
    def touch_guild_roster(self, guild_id: int) -> None: ...
    def prune_characters(self, after_days: int, batch_size: int, max_batches: int) -> JSON: ...


class SqlCharacterStore(SqlStore):
    def list_user_characters(self, user_id: UserId) -> list[JSON]:
        result: list[JSON] = self._call("list_user_characters", p_user_id=as_id(user_id))
        return result

    def character_history(
        self, user_id: UserId | None, character_id: int, since: datetime | None, limit: int
    ) -> JSON | None:
        """A character's changes, newest first; None when it is not the user's (any user's
        when `user_id` is None: the service key)."""
        result: JSON | None = self._call(
            "character_history",
            p_user_id=as_id(user_id),
            p_character_id=character_id,
            p_since=iso(since),
            p_limit=limit,
        )
        return result

    def refresh_account_characters(
        self,
        *,
        user_id: UserId,
        region: str,
        flavor: str,
        characters: list[JSON],
        archive_missing: bool,
        queue: str,
    ) -> int:
        """The account's characters deduplicated as a sync does; one refresh each queued.
        Returns how many were listed."""
        return int(
            self._call(
                "refresh_account_characters",
                p_user_id=as_id(user_id),
                p_region=region,
                p_flavor=flavor,
                p_characters=characters,
                p_archive_missing=archive_missing,
                p_queue=queue,
            )
        )

    def apply_guild_roster(
        self, guild_id: int, members: list[JSON], last_modified: str | None, member_count: int
    ) -> RosterApplied | None:
        """Every member upserted with their rank, members who left unlinked; None for an
        unknown guild."""
        row: JSON | None = self._call(
            "apply_guild_roster",
            p_guild_id=guild_id,
            p_members=members,
            p_last_modified=last_modified,
            p_member_count=member_count,
        )
        return None if row is None else RosterApplied(int(row["members"]), int(row["left"]))

    def touch_guild_roster(self, guild_id: int) -> None:
        self._call("touch_guild_roster", p_guild_id=guild_id)

    def prune_characters(self, after_days: int, batch_size: int, max_batches: int) -> JSON:
        result: JSON = self._call(
            "prune_characters",
            p_after_days=after_days, p_batch_size=batch_size, p_max_batches=max_batches,
        )  # fmt: skip
        return result
