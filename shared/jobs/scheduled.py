"""The scheduled (bulk) jobs, thin over their services, with the app token only:
`refresh_character` (a conditional refresh), `guild_roster` and `static_data`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from shared.blizzard.regions import GameVersion, Region
from shared.db.queue import Delivery
from shared.jobs.base import Job, Outcome, Recorded
from shared.jobs.messages import Message
from shared.services.refresh import CharacterKey, CharacterRefresher, RosterSync
from shared.services.static_data import StaticDataService


class RefreshCharacter(Message):
    """A conditional refresh of a known character (`refresh_message()` in SQL)."""

    type: Literal["refresh_character"] = "refresh_character"
    character_id: int
    blizzard_id: int
    region: str
    flavor: str
    realm_slug: str
    name: str
    last_modified: datetime | None = None


class GuildRoster(Message):
    """A guild's roster (`roster_message()` in SQL)."""

    type: Literal["guild_roster"] = "guild_roster"
    guild_id: int
    region: str
    flavor: str
    realm_slug: str
    slug: str
    last_modified: datetime | None = None


class StaticData(Message):
    """Classes, races and realms (`enqueue_static_sync()` in SQL)."""

    type: Literal["static_data"] = "static_data"
    regions: list[str] | None = None
    game_versions: list[str] | None = None


class RefreshCharacterJob(Job[RefreshCharacter]):
    message = RefreshCharacter
    max_attempts = 3

    def __init__(self, refresher: CharacterRefresher) -> None:
        self.refresher = refresher

    def handle(self, message: RefreshCharacter, delivery: Delivery) -> Outcome | Recorded:
        key = CharacterKey(
            character_id=message.character_id,
            blizzard_id=message.blizzard_id,
            region=Region.parse(message.region),
            version=GameVersion.for_flavor(message.flavor),
            realm_slug=message.realm_slug,
            name=message.name,
            last_modified=message.last_modified,
        )
        refreshed = self.refresher.refresh(key)
        if refreshed.record is None:
            return Outcome.FAILED if refreshed.result == "not_indexed" else Outcome.DONE
        return Recorded(Outcome.DONE, refreshed.record)


class GuildRosterJob(Job[GuildRoster]):
    message = GuildRoster
    max_attempts = 3

    def __init__(self, rosters: RosterSync) -> None:
        self.rosters = rosters

    def handle(self, message: GuildRoster, delivery: Delivery) -> Outcome:
        result = self.rosters.sync(
            message.guild_id,
            Region.parse(message.region),
            GameVersion.for_flavor(message.flavor),
            message.realm_slug,
            message.slug,
            message.last_modified,
        )
        return Outcome.FAILED if result == "not_found" else Outcome.DONE


class StaticDataJob(Job[StaticData]):
    message = StaticData
    max_attempts = 5

    def __init__(self, service: StaticDataService, default_regions: list[str]) -> None:
        self.service = service
        self.default_regions = default_regions

    def handle(self, message: StaticData, delivery: Delivery) -> Outcome:
        regions = [Region.parse(r) for r in message.regions or self.default_regions]
        versions = [GameVersion.parse(v) for v in message.game_versions or ["retail"]]
        self.service.sync(regions, versions)
        return Outcome.DONE
