"""Regions, namespace kinds and game versions, and the one place that computes hosts and
namespaces from them (DESIGN.md section 4).

The game-version table is data: Blizzard moves realm groups between namespaces, so a change
there is an edit of `GAME_VERSIONS`, not of code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from shared.errors import BadRequest
from shared.settings import DEFAULT_API_URL, DEFAULT_OAUTH_URL


class _ParseableEnum(StrEnum):
    @classmethod
    def parse(cls, value: object) -> Self:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise BadRequest(
                f"unknown {cls._label()} {value!r}; valid: {valid}", valid=list(cls)
            ) from None

    @classmethod
    def _label(cls) -> str:
        return cls.__name__.lower()


class Region(_ParseableEnum):
    US = "us"
    EU = "eu"
    KR = "kr"
    TW = "tw"
    CN = "cn"

    @classmethod
    def _label(cls) -> str:
        return "region"


class NamespaceKind(_ParseableEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"
    PROFILE = "profile"


class GameVersion(_ParseableEnum):
    RETAIL = "retail"
    CLASSIC_ERA = "classic_era"
    CLASSIC_SOD = "classic_sod"
    CLASSIC_ANNIVERSARY = "classic_anniversary"
    CLASSIC_PROGRESSION = "classic_progression"

    @classmethod
    def _label(cls) -> str:
        return "gameVersion"

    @property
    def info(self) -> GameVersionInfo:
        return GAME_VERSIONS[self]

    @classmethod
    def for_flavor(cls, flavor: str) -> GameVersion:
        """The first game version whose namespaces carry `flavor` ('retail' for none)."""
        for version in cls:
            if version.flavor == flavor:
                return version
        raise BadRequest(f"unknown game flavor {flavor!r}")

    @property
    def flavor(self) -> str:
        """The flavor stored with realms, characters and guilds ('retail' for none)."""
        return self.info.flavor or "retail"


@dataclass(frozen=True)
class GameVersionInfo:
    flavor: str | None  # the namespace infix: None for retail
    template: str  # the game's render/template family


GAME_VERSIONS: dict[GameVersion, GameVersionInfo] = {
    GameVersion.RETAIL: GameVersionInfo(flavor=None, template="wow"),
    GameVersion.CLASSIC_ERA: GameVersionInfo(flavor="classic1x", template="wow_classic"),
    GameVersion.CLASSIC_SOD: GameVersionInfo(flavor="classic1x", template="wow_classic"),
    GameVersion.CLASSIC_ANNIVERSARY: GameVersionInfo(flavor="classicann", template="wow_classic"),
    GameVersion.CLASSIC_PROGRESSION: GameVersionInfo(flavor="classic", template="wow_classic"),
}

CN_API_URL = "https://gateway.battlenet.com.cn"
CN_OAUTH_URL = "https://oauth.battlenet.com.cn"


def namespace(kind: NamespaceKind, region: Region, game_version: GameVersion) -> str:
    """`{static|dynamic|profile}[-{flavor}]-{region}`."""
    flavor = game_version.info.flavor
    parts = [kind.value, *([flavor] if flavor else []), region.value]
    return "-".join(parts)


def api_base(api_url: str, region: Region) -> str:
    """The API base URL of a region: `{region}` replaced; the default host for CN is China's."""
    if region is Region.CN and api_url == DEFAULT_API_URL:
        return CN_API_URL
    return api_url.replace("{region}", region.value).rstrip("/")


def oauth_base(oauth_url: str, region: Region) -> str:
    if region is Region.CN and oauth_url == DEFAULT_OAUTH_URL:
        return CN_OAUTH_URL
    return oauth_url.rstrip("/")
