"""Scheduled bulk work, with the app token (never a user's login):

- `CharacterRefresher`: a conditional character refresh. `If-Modified-Since` carries the
  stored `Last-Modified`; on 304 the media, guild and snapshot follow-ups are skipped (gear and
  talents are fetched only for a modified profile, `shared.services.snapshots`). What it found
  is recorded with the delivery's delete (`Refreshed.record`). On Blizzard's
  guidance a 404 is checked against the status endpoint: 404, `is_valid` false or another id
  archive the character (another id is another character behind the same name).
- `RosterSync`: a guild's roster, every member upserted as a character with their rank,
  members who left unlinked. The roster is one request; no member is fetched on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.blizzard import endpoints as ep
from shared.blizzard.client import BlizzardClient
from shared.blizzard.models import ref_id, type_of
from shared.blizzard.regions import GameVersion, Region
from shared.db.characters import CharacterStore, refresh_record
from shared.db.queue import Record
from shared.errors import BlizzardNotFound
from shared.services.enrichment import CharacterEnricher

RefreshResult = Literal["modified", "not_modified", "archived", "not_indexed"]
RosterResult = Literal["applied", "not_modified", "not_found"]


@dataclass(frozen=True)
class Refreshed:
    """A refresh's result and what it records (None: nothing, e.g. not indexed yet)."""

    result: RefreshResult
    record: Record | None = None


@dataclass(frozen=True)
class CharacterKey:
    """Where a known character is on Battle.net, and what we last saw of it."""

    character_id: int
    blizzard_id: int
    region: Region
    version: GameVersion
    realm_slug: str
    name: str
    last_modified: datetime | None


class CharacterRefresher:
    def __init__(self, client: BlizzardClient, enricher: CharacterEnricher) -> None:
        self.client = client
        self.enricher = enricher

    def refresh(self, key: CharacterKey) -> Refreshed:
        path = {"realm": key.realm_slug, "name": key.name}
        try:
            fetched = self.client.fetch(
                ep.CHARACTER,
                region=key.region,
                game_version=key.version,
                path=path,
                if_modified_since=key.last_modified,
            )
        except BlizzardNotFound:
            return self._check_status(key, path)
        if fetched.not_modified:
            return self._record(key, "not_modified")
        profile = fetched.value()
        if profile.id != key.blizzard_id:
            return self._record(key, "archived")  # another character behind the same name
        data = self.enricher.with_media(
            profile, fetched.last_modified, key.region, key.version, path
        )
        # only a modified profile: never on 304
        self.enricher.capture(
            key.character_id, key.region, key.version, key.realm_slug, key.name, data
        )
        return Refreshed("modified", refresh_record(key.character_id, "modified", data))

    def _record(self, key: CharacterKey, result: Literal["not_modified", "archived"]) -> Refreshed:
        return Refreshed(result, refresh_record(key.character_id, result, None))

    def _check_status(self, key: CharacterKey, path: dict[str, str]) -> Refreshed:
        try:
            status = self.client.fetch(
                ep.CHARACTER_STATUS, region=key.region, game_version=key.version, path=path
            ).value()
        except BlizzardNotFound:
            return self._record(key, "archived")
        if not status.is_valid or status.id != key.blizzard_id:
            return self._record(key, "archived")
        return Refreshed("not_indexed")  # valid but its profile is not indexed (yet): try next time


class RosterSync:
    def __init__(self, client: BlizzardClient, characters: CharacterStore) -> None:
        self.client = client
        self.characters = characters

    def sync(
        self,
        guild_id: int,
        region: Region,
        version: GameVersion,
        realm_slug: str,
        slug: str,
        last_modified: datetime | None,
    ) -> RosterResult:
        try:
            fetched = self.client.fetch(
                ep.GUILD_ROSTER,
                region=region,
                game_version=version,
                path={"realm": realm_slug, "guild": slug},
                if_modified_since=last_modified,
            )
        except BlizzardNotFound:
            self.characters.touch_guild_roster(guild_id)
            return "not_found"
        if fetched.not_modified:
            self.characters.touch_guild_roster(guild_id)
            return "not_modified"
        roster = fetched.value()
        members = [
            {
                "blizzard_id": m.character.id,
                "name": m.character.name,
                "realm_id": m.character.realm.id,
                "realm_slug": m.character.realm.slug,
                "level": m.character.level,
                "class_id": ref_id(m.character.playable_class),
                "race_id": ref_id(m.character.playable_race),
                "faction": type_of(m.character.faction),
                "rank": m.rank,
            }
            for m in roster.members
        ]
        modified = fetched.last_modified.isoformat() if fetched.last_modified else None
        self.characters.apply_guild_roster(guild_id, members, modified, len(members))
        return "applied"
