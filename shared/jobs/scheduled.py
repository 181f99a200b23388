"""The scheduled (bulk) jobs, thin over their services, with the app token only:
`refresh_character` (a conditional refresh), `guild_roster` and `static_data`."""

from __future__ import annotations

from shared.blizzard.regions import GameVersion, Region
from shared.db.queue import Delivery
from shared.jobs.base import Job, Outcome
from shared.jobs.messages import GuildRoster, RefreshCharacter, StaticData
from shared.jobs.queues import Queue
from shared.services.refresh import CharacterKey, CharacterRefresher, RosterSync
from shared.services.static_data import StaticDataService


class RefreshCharacterJob(Job[RefreshCharacter]):
    message = RefreshCharacter
    queue = Queue.CHARACTER_REFRESH
    max_attempts = 3

    def __init__(self, refresher: CharacterRefresher) -> None:
        self.refresher = refresher

    def handle(self, message: RefreshCharacter, delivery: Delivery) -> Outcome:
        key = CharacterKey(
            character_id=message.character_id,
            blizzard_id=message.blizzard_id,
            region=Region.parse(message.region),
            version=GameVersion.for_flavor(message.flavor),
            realm_slug=message.realm_slug,
            name=message.name,
            last_modified=message.last_modified,
        )
        result = self.refresher.refresh(key)
        return Outcome.FAILED if result == "not_indexed" else Outcome.DONE


class GuildRosterJob(Job[GuildRoster]):
    message = GuildRoster
    queue = Queue.GUILD_ROSTER
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
    queue = Queue.STATIC_DATA
    max_attempts = 5

    def __init__(self, service: StaticDataService, default_regions: list[str]) -> None:
        self.service = service
        self.default_regions = default_regions

    def handle(self, message: StaticData, delivery: Delivery) -> Outcome:
        regions = [Region.parse(r) for r in message.regions or self.default_regions]
        versions = [GameVersion.parse(v) for v in message.game_versions or ["retail"]]
        self.service.sync(regions, versions)
        return Outcome.DONE
