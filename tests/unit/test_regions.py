import pytest

from shared.blizzard.regions import (
    GAME_VERSIONS,
    GameVersion,
    NamespaceKind,
    Region,
    api_base,
    namespace,
    oauth_base,
)
from shared.errors import BadRequest


@pytest.mark.parametrize(
    ("kind", "region", "version", "expected"),
    [
        (NamespaceKind.PROFILE, Region.US, GameVersion.RETAIL, "profile-us"),
        (NamespaceKind.STATIC, Region.EU, GameVersion.RETAIL, "static-eu"),
        (NamespaceKind.DYNAMIC, Region.US, GameVersion.CLASSIC_ERA, "dynamic-classic1x-us"),
        (NamespaceKind.PROFILE, Region.EU, GameVersion.CLASSIC_SOD, "profile-classic1x-eu"),
        (
            NamespaceKind.PROFILE,
            Region.US,
            GameVersion.CLASSIC_ANNIVERSARY,
            "profile-classicann-us",
        ),
        (NamespaceKind.STATIC, Region.KR, GameVersion.CLASSIC_PROGRESSION, "static-classic-kr"),
    ],
)
def test_namespace_follows_the_table(
    kind: NamespaceKind, region: Region, version: GameVersion, expected: str
) -> None:
    assert namespace(kind, region, version) == expected


def test_every_game_version_has_a_row() -> None:
    assert set(GAME_VERSIONS) == set(GameVersion)
    assert GameVersion.RETAIL.flavor == "retail"
    assert GameVersion.CLASSIC_ERA.flavor == GameVersion.CLASSIC_SOD.flavor == "classic1x"


def test_hosts() -> None:
    template = "https://{region}.api.blizzard.com"
    assert api_base(template, Region.EU) == "https://eu.api.blizzard.com"
    assert api_base(template, Region.CN) == "https://gateway.battlenet.com.cn"
    assert api_base("http://127.0.0.1:9/", Region.KR) == "http://127.0.0.1:9"
    assert oauth_base("https://oauth.battle.net", Region.CN) == "https://oauth.battlenet.com.cn"
    assert oauth_base("https://oauth.battle.net", Region.TW) == "https://oauth.battle.net"


def test_unknown_values_name_the_valid_ones() -> None:
    with pytest.raises(BadRequest, match="classic_era"):
        GameVersion.parse("wotlk")
    with pytest.raises(BadRequest, match="us, eu, kr, tw, cn"):
        Region.parse("mars")
    assert Region.parse(" EU ") is Region.EU
