"""Enrichment of one character with the app token: the character profile (guild, item levels,
last login) and its media (avatar and the other assets by key), as the data the SQL writes, and
after it is recorded, its gear and talent snapshots (`capture`). A media failure leaves media
out (the character is saved without it); a snapshot failure never fails the character. Used by
the session's job (`shared.jobs.enrich`, with the seed's error table) and by the scheduled
refresh of a modified profile (`shared.services.refresh`)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from shared.blizzard import endpoints as ep
from shared.blizzard.client import BlizzardClient
from shared.blizzard.models import CharacterProfile, ref_id, ref_name, type_of
from shared.blizzard.regions import GameVersion, Region
from shared.errors import BlizzardError
from shared.services.snapshots import SnapshotCapture, SnapshotTarget, parse_time

log = logging.getLogger(__name__)


def guild_slug(profile: CharacterProfile) -> str | None:
    guild = profile.guild
    if guild is None:
        return None
    if guild.key is not None:  # .../data/wow/guild/{realm}/{slug}?namespace=...
        return guild.key.href.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return guild.name.lower().replace(" ", "-")


def profile_data(
    profile: CharacterProfile, last_modified: datetime | None, media: dict[str, str] | None
) -> dict[str, Any]:
    guild = profile.guild
    data: dict[str, Any] = {
        "name": profile.name,
        "realm_name": profile.realm.name,
        "level": profile.level,
        "class_id": ref_id(profile.character_class),
        "class_name": ref_name(profile.character_class),
        "race_id": ref_id(profile.race),
        "race_name": ref_name(profile.race),
        "faction": type_of(profile.faction),
        "gender": type_of(profile.gender),
        "average_item_level": profile.average_item_level,
        "equipped_item_level": profile.equipped_item_level,
        "last_login_timestamp": profile.last_login_timestamp,
        "last_modified": last_modified.isoformat() if last_modified else None,
        "guild": None
        if guild is None
        else {
            "blizzard_id": guild.id,
            "name": guild.name,
            "slug": guild_slug(profile),
            "realm_id": guild.realm.id,
            "realm_slug": guild.realm.slug,
            "realm_name": guild.realm.name,
            "faction": type_of(guild.faction),
        },
    }
    if media is not None:
        data["media"] = media
    return data


class CharacterEnricher:
    def __init__(self, client: BlizzardClient, snapshots: SnapshotCapture | None = None) -> None:
        self.client = client
        self.snapshots = snapshots  # None: snapshots are off (GUILD_SYNC_SNAPSHOTS=off)

    def capture(
        self,
        character_id: int,
        region: Region,
        version: GameVersion,
        realm_slug: str,
        name: str,
        data: dict[str, Any],
    ) -> None:
        """After a fetched profile is recorded: its gear and talent snapshots (when the
        character played lately and the profile moved; see SnapshotCapture)."""
        if self.snapshots is None:
            return
        self.snapshots.capture(
            SnapshotTarget(
                character_id,
                region,
                version,
                realm_slug,
                name,
                parse_time(data.get("last_modified")),
                data.get("last_login_timestamp"),
            )
        )

    def fetch(
        self, region: Region, version: GameVersion, realm_slug: str, name: str
    ) -> dict[str, Any]:
        """Profile then media; a media failure leaves media out (the avatar stays as it was)."""
        path = {"realm": realm_slug, "name": name}
        fetched = self.client.fetch(ep.CHARACTER, region=region, game_version=version, path=path)
        return self.with_media(fetched.value(), fetched.last_modified, region, version, path)

    def with_media(
        self,
        profile: CharacterProfile,
        last_modified: datetime | None,
        region: Region,
        version: GameVersion,
        path: dict[str, str],
    ) -> dict[str, Any]:
        """The profile's data plus its media; a media failure leaves media out."""
        media: dict[str, str] | None
        try:
            fetched = self.client.fetch(
                ep.CHARACTER_MEDIA, region=region, game_version=version, path=path
            )
            media = fetched.value().asset_map()
        except BlizzardError as exc:
            log.info("media of %s unavailable: %s", "/".join(path.values()), exc.code)
            media = None
        return profile_data(profile, last_modified, media)
