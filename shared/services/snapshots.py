"""Gear and talent snapshots of a character, with the app token.

`SnapshotCapture` runs after a character's profile was fetched with a body (its first
enrichment, or a refresh that did not answer 304). It fetches equipment and specializations
only for a character that has no snapshot state of that kind yet or whose profile's
`Last-Modified` moved since that kind was last fetched, and only if the character logged in
within `ACTIVE_DAYS`; each kind is fetched with its own `If-Modified-Since`. The database keeps
a snapshot only when the normalized content's hash differs from the newest one. A failure of
either kind is logged and skipped: a snapshot never fails the character.

`SnapshotReader` answers the snapshot endpoints (owner or guildmate; anyone else gets 404) and
the guild page (members of every realm of the guild's connected-realm group).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from shared.blizzard import endpoints as ep
from shared.blizzard.client import BlizzardClient
from shared.blizzard.models import (
    CharacterEquipment,
    CharacterSpecializations,
    SelectedTalent,
)
from shared.blizzard.regions import GameVersion, Region
from shared.db.base import UserId
from shared.db.protocol import JSON
from shared.db.snapshots import SnapshotSource, SnapshotStore
from shared.errors import BadRequest, BlizzardError, NotFound, WaitForBattlenet

log = logging.getLogger(__name__)

Kind = Literal["equipment", "talents"]
KINDS: tuple[Kind, ...] = ("equipment", "talents")
ACTIVE_DAYS = 30
#: Cosmetic slots left out of a snapshot's item level (as Blizzard's equipped item level).
COSMETIC_SLOTS = frozenset({"SHIRT", "TABARD"})


def parse_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


# --- normalization: what a snapshot holds (and what its hash covers) ------------------------

SNAPSHOT_ENDPOINTS: dict[Kind, ep.Endpoint[Any]] = {
    "equipment": ep.CHARACTER_EQUIPMENT,
    "talents": ep.CHARACTER_SPECIALIZATIONS,
}


def snapshot_entry(kind: Kind, body: Any) -> JSON:
    """A fetched body as what the database stores: its normalized content and, for the list,
    the equipment's item level or the talents' spec."""
    if kind == "equipment":
        content = equipment_content(body)
        return {"content": content, "itemLevel": equipment_item_level(content)}
    content = talents_content(body)
    return {"content": content, "spec": content["spec"]}


def equipment_content(body: CharacterEquipment) -> JSON:
    items = [
        {
            "slot": it.slot.type,
            "itemId": it.item.id,
            "name": it.name,
            "quality": it.quality.type if it.quality else None,
            "itemLevel": it.level.value if it.level else None,
            "enchantments": [
                {"id": e.enchantment_id, "description": e.display_string} for e in it.enchantments
            ],
            "gems": [
                {"itemId": s.item.id, "name": s.item.name} for s in it.sockets if s.item is not None
            ],
            "set": it.set.item_set.name if it.set else None,
        }
        for it in body.equipped_items
    ]
    items.sort(key=lambda item: str(item["slot"]))
    return {"items": items}


def equipment_item_level(content: JSON) -> int | None:
    levels = [
        i["itemLevel"]
        for i in content["items"]
        if i["itemLevel"] is not None and i["slot"] not in COSMETIC_SLOTS
    ]
    return sum(levels) // len(levels) if levels else None


def _talents(tree: str, selected: list[SelectedTalent]) -> list[JSON]:
    out = []
    for t in selected:
        talent = t.tooltip.talent if t.tooltip else None
        out.append(
            {
                "tree": tree,
                "id": talent.id if talent else t.id,
                "name": talent.name if talent else None,
                "rank": t.rank,
            }
        )
    return out


def talents_content(body: CharacterSpecializations) -> JSON:
    """The active spec, its active loadout's code and its talents."""
    active = body.active_specialization
    spec = next(
        (
            s
            for s in body.specializations
            if active is not None
            and s.specialization is not None
            and s.specialization.id == active.id
        ),
        None,
    )
    loadouts = spec.loadouts if spec else []
    loadout = next((lo for lo in loadouts if lo.is_active), loadouts[0] if loadouts else None)
    talents: list[JSON] = []
    if loadout is not None:
        talents = [
            *_talents("class", loadout.selected_class_talents),
            *_talents("spec", loadout.selected_spec_talents),
            *_talents("hero", loadout.selected_hero_talents),
        ]
    return {
        "spec": active.name if active else None,
        "specId": active.id if active else None,
        "loadoutCode": loadout.talent_loadout_code if loadout else None,
        "talents": talents,
    }


# --- capture ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotTarget:
    """A character whose profile was just fetched with a body."""

    character_id: int
    region: Region
    version: GameVersion
    realm_slug: str
    name: str
    profile_modified: datetime | None
    last_login_ms: int | None


class SnapshotCapture:
    def __init__(
        self,
        client: BlizzardClient,
        store: SnapshotStore,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.store = store
        self.now = now

    def recently_active(self, last_login_ms: int | None) -> bool:
        if last_login_ms is None:
            return False
        last_login = datetime.fromtimestamp(last_login_ms / 1000, UTC)
        return self.now() - last_login <= timedelta(days=ACTIVE_DAYS)

    def due(self, target: SnapshotTarget, sources: dict[str, SnapshotSource]) -> list[Kind]:
        """The kinds to fetch: never fetched, or fetched for an older profile."""
        if not self.recently_active(target.last_login_ms):
            return []
        due: list[Kind] = []
        for kind in KINDS:
            source = sources.get(kind)
            if source is None:
                due.append(kind)
                continue
            if (
                target.profile_modified is None
                or source.profile_modified != target.profile_modified
            ):
                due.append(kind)
        return due

    def capture(self, target: SnapshotTarget) -> int:
        """Fetch what is due and record it; the number of Battle.net requests made."""
        if not self.recently_active(target.last_login_ms):
            return 0
        sources = self.store.snapshot_sources(target.character_id)
        entries: list[JSON] = []
        for kind in self.due(target, sources):
            source = sources.get(kind)
            since = source.last_modified if source else None
            try:
                entries.append(self._fetch(target, kind, since))
            except (BlizzardError, WaitForBattlenet) as exc:
                log.info(
                    "%s snapshot of character %s skipped: %s",
                    kind,
                    target.character_id,
                    getattr(exc, "code", type(exc).__name__),
                )
        if entries:
            self.store.record_character_snapshots(target.character_id, entries)
        return len(entries)

    def _fetch(self, target: SnapshotTarget, kind: Kind, since: datetime | None) -> JSON:
        profile_modified = target.profile_modified.isoformat() if target.profile_modified else None
        entry: JSON = {"kind": kind, "profileModified": profile_modified}
        fetched = self.client.fetch(
            SNAPSHOT_ENDPOINTS[kind],
            region=target.region,
            game_version=target.version,
            path={"realm": target.realm_slug, "name": target.name},
            if_modified_since=since,
        )
        if not fetched.not_modified:
            entry.update(snapshot_entry(kind, fetched.value()))
        fetched_modified = fetched.last_modified
        last = fetched_modified or since
        entry["lastModified"] = last.isoformat() if last else None
        return entry


# --- reading ------------------------------------------------------------------------------


class SnapshotReader:
    def __init__(self, store: SnapshotStore) -> None:
        self.store = store

    def list(self, user: UserId, character_id: int, kind: str | None) -> JSON:
        if kind not in KINDS:
            raise BadRequest(f"kind must be one of {', '.join(KINDS)}")
        found = self.store.character_snapshots(user, character_id, kind)
        if found is None:
            raise NotFound("no such character")
        return found

    def guild(self, user: UserId, guild_id: int) -> JSON:
        """A guild's page, for a user with a character in it (404 for anyone else)."""
        found = self.store.guild_page(user, guild_id)
        if found is None:
            raise NotFound("no such guild")
        return found

    def get(self, user: UserId, character_id: int, snapshot_id: int) -> JSON:
        found = self.store.character_snapshot(user, character_id, snapshot_id)
        if found is None:
            raise NotFound("no such snapshot")
        return found
