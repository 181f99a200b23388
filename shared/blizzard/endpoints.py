"""The Battle.net endpoints the project uses: each is a path, a namespace kind and a model.

Path placeholders are filled by `BlizzardClient`, which percent-encodes every value; the
`name` placeholder (a character name) is Unicode-lowercased first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from shared.blizzard import models as m
from shared.blizzard.regions import NamespaceKind

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Endpoint(Generic[T]):
    name: str
    path: str
    kind: NamespaceKind
    model: type[T]
    user_token: bool = False  # needs the user's token, not the app token


STATIC, DYNAMIC, PROFILE = NamespaceKind.STATIC, NamespaceKind.DYNAMIC, NamespaceKind.PROFILE

CLASS_INDEX = Endpoint(
    "class-index", "/data/wow/playable-class/index", STATIC, m.PlayableClassIndex
)
CLASS = Endpoint("class", "/data/wow/playable-class/{id}", STATIC, m.PlayableClass)
RACE_INDEX = Endpoint("race-index", "/data/wow/playable-race/index", STATIC, m.PlayableRaceIndex)
RACE = Endpoint("race", "/data/wow/playable-race/{id}", STATIC, m.PlayableRace)
REALM_INDEX = Endpoint("realm-index", "/data/wow/realm/index", DYNAMIC, m.RealmIndex)
REALM = Endpoint("realm", "/data/wow/realm/{slug}", DYNAMIC, m.Realm)
CONNECTED_REALM_INDEX = Endpoint(
    "connected-realm-index", "/data/wow/connected-realm/index", DYNAMIC, m.ConnectedRealmIndex
)
CONNECTED_REALM = Endpoint(
    "connected-realm", "/data/wow/connected-realm/{id}", DYNAMIC, m.ConnectedRealm
)
CONNECTED_REALM_SEARCH = Endpoint(
    "connected-realm-search", "/data/wow/search/connected-realm", DYNAMIC, m.ConnectedRealmSearch
)
ACCOUNT_PROFILE = Endpoint(
    "account-profile", "/profile/user/wow", PROFILE, m.AccountProfile, user_token=True
)
PROTECTED_CHARACTER = Endpoint(
    "protected-character",
    "/profile/user/wow/protected-character/{realm_id}-{character_id}",
    PROFILE,
    m.ProtectedCharacter,
    user_token=True,
)
CHARACTER = Endpoint(
    "character-profile", "/profile/wow/character/{realm}/{name}", PROFILE, m.CharacterProfile
)
CHARACTER_MEDIA = Endpoint(
    "character-media",
    "/profile/wow/character/{realm}/{name}/character-media",
    PROFILE,
    m.CharacterMedia,
)
CHARACTER_STATUS = Endpoint(
    "character-status", "/profile/wow/character/{realm}/{name}/status", PROFILE, m.CharacterStatus
)
CHARACTER_EQUIPMENT = Endpoint(
    "character-equipment",
    "/profile/wow/character/{realm}/{name}/equipment",
    PROFILE,
    m.CharacterEquipment,
)
CHARACTER_SPECIALIZATIONS = Endpoint(
    "character-specializations",
    "/profile/wow/character/{realm}/{name}/specializations",
    PROFILE,
    m.CharacterSpecializations,
)
GUILD = Endpoint("guild", "/data/wow/guild/{realm}/{guild}", PROFILE, m.Guild)
GUILD_ROSTER = Endpoint(
    "guild-roster", "/data/wow/guild/{realm}/{guild}/roster", PROFILE, m.GuildRoster
)
