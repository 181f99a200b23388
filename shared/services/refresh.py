"""Scheduled bulk work, with the app token (never a user's login):

- `RefreshCharacterJob`: a conditional character refresh. `If-Modified-Since` carries the
  stored `Last-Modified`; on 304 the media and guild follow-ups are skipped. On Blizzard's
  guidance a 404 is checked against the status endpoint: 404, `is_valid` false or another id
  archive the character (another id is another character behind the same name).
- `GuildRosterJob`: a guild's roster, every member upserted as a character with their rank,
  members who left unlinked. The roster is one request; no member is fetched on their own.
- `StaticDataJob`: the monthly static-data sync, the same work as `sync-static-data`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from shared.blizzard import endpoints as ep
from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import GameVersion, Region
from shared.db.protocol import Repository
from shared.errors import BlizzardError, BlizzardNotFound
from shared.services.enrichment import CharacterEnricher
from shared.services.static_data import StaticDataService
from shared.worker_types import Outcome, Retry


def _since(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _retry_or_raise(exc: BlizzardError) -> NoReturn:
    if exc.retryable:
        raise Retry(exc.message) from exc
    raise exc


class RefreshCharacterJob:
    def __init__(self, client: BlizzardClient, repo: Repository) -> None:
        self.client = client
        self.repo = repo
        self.enricher = CharacterEnricher(client, repo)

    def handle(self, message: dict[str, Any]) -> Outcome:
        character_id = int(message["characterId"])
        region = Region.parse(message["region"])
        version = GameVersion.for_flavor(message["flavor"])
        path = {"realm": message["realmSlug"], "name": message["name"]}
        try:
            fetched = self.client.fetch(
                ep.CHARACTER,
                region=region,
                game_version=version,
                path=path,
                if_modified_since=_since(message.get("lastModified")),
            )
        except BlizzardNotFound:
            return self._check_status(message, region, version, path)
        except BlizzardError as exc:
            _retry_or_raise(exc)
        if fetched.not_modified:
            self.repo.record_character_refresh(character_id, "not_modified", None)
            return Outcome.DONE
        profile = fetched.value()
        if profile.id != int(message["blizzardId"]):
            self.repo.record_character_refresh(character_id, "archived", None)
            return Outcome.DONE
        data = self.enricher.with_media(profile, fetched.last_modified, region, version, path)
        self.repo.record_character_refresh(character_id, "modified", data)
        return Outcome.DONE

    def _check_status(
        self, message: dict[str, Any], region: Region, version: GameVersion, path: dict[str, str]
    ) -> Outcome:
        character_id = int(message["characterId"])
        try:
            status = self.client.fetch(
                ep.CHARACTER_STATUS, region=region, game_version=version, path=path
            ).value()
        except BlizzardNotFound:
            self.repo.record_character_refresh(character_id, "archived", None)
            return Outcome.DONE
        except BlizzardError as exc:
            _retry_or_raise(exc)
        if not status.is_valid or status.id != int(message["blizzardId"]):
            self.repo.record_character_refresh(character_id, "archived", None)
            return Outcome.DONE
        return Outcome.FAILED  # valid but its profile is not indexed (yet): try next time

    def give_up(self, message: dict[str, Any], reason: str) -> None:
        return None


class GuildRosterJob:
    def __init__(self, client: BlizzardClient, repo: Repository) -> None:
        self.client = client
        self.repo = repo

    def handle(self, message: dict[str, Any]) -> Outcome:
        guild_id = int(message["guildId"])
        try:
            fetched = self.client.fetch(
                ep.GUILD_ROSTER,
                region=Region.parse(message["region"]),
                game_version=GameVersion.for_flavor(message["flavor"]),
                path={"realm": message["realmSlug"], "guild": message["slug"]},
                if_modified_since=_since(message.get("lastModified")),
            )
        except BlizzardNotFound:
            self.repo.touch_guild_roster(guild_id)
            return Outcome.FAILED
        except BlizzardError as exc:
            _retry_or_raise(exc)
        if fetched.not_modified:
            self.repo.touch_guild_roster(guild_id)
            return Outcome.DONE
        roster = fetched.value()
        members = [
            {
                "blizzard_id": m.character.id,
                "name": m.character.name,
                "realm_id": m.character.realm.id,
                "realm_slug": m.character.realm.slug,
                "level": m.character.level,
                "class_id": m.character.playable_class.id if m.character.playable_class else None,
                "race_id": m.character.playable_race.id if m.character.playable_race else None,
                "faction": m.character.faction.type if m.character.faction else None,
                "rank": m.rank,
            }
            for m in roster.members
        ]
        modified = fetched.last_modified.isoformat() if fetched.last_modified else None
        self.repo.apply_guild_roster(guild_id, members, modified, len(members))
        return Outcome.DONE

    def give_up(self, message: dict[str, Any], reason: str) -> None:
        return None


class StaticDataJob:
    def __init__(self, service: StaticDataService, default_regions: list[str]) -> None:
        self.service = service
        self.default_regions = default_regions

    def handle(self, message: dict[str, Any]) -> Outcome:
        regions = [Region.parse(r) for r in message.get("regions") or self.default_regions]
        versions = [GameVersion.parse(v) for v in message.get("gameVersions") or ["retail"]]
        try:
            self.service.sync(regions, versions)
        except BlizzardError as exc:
            _retry_or_raise(exc)
        return Outcome.DONE

    def give_up(self, message: dict[str, Any], reason: str) -> None:
        return None
