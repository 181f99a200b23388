"""Pydantic models of the Battle.net responses the project reads.

Built from shared building blocks for Battle.net's repeated shapes (key/href, named ref,
realm ref, typed name, localized string); `extra="ignore"`, frozen. Fields the project does
not read are left out, so a response with more fields still parses.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _localized(value: Any) -> Any:
    """Search endpoints answer `{"en_US": "...", "de_DE": "...", ...}` where the other
    endpoints answer a plain string: take en_US, else the first value."""
    if isinstance(value, dict):
        if "en_US" in value:
            return value["en_US"]
        return next((v for v in value.values() if isinstance(v, str)), None)
    return value


LocalizedStr = Annotated[str, BeforeValidator(_localized)]


class Href(Model):
    href: str


class KeyRef(Model):
    key: Href | None = None
    id: int


class NamedRef(KeyRef):
    name: LocalizedStr | None = None


class TypedName(Model):
    type: str
    name: LocalizedStr | None = None


def ref_id(ref: KeyRef | None) -> int | None:
    """The id of an optional reference (`None` when Battle.net left it out)."""
    return None if ref is None else ref.id


def ref_name(ref: NamedRef | None) -> str | None:
    return None if ref is None else ref.name


def type_of(value: TypedName | None) -> str | None:
    """The `type` of an optional typed name (faction, gender, ...)."""
    return None if value is None else value.type


class RealmRef(Model):
    key: Href | None = None
    id: int
    slug: str
    name: LocalizedStr | None = None


# --- game data: classes, races -------------------------------------------------------------


class PlayableClassIndex(Model):
    classes: list[NamedRef]


class PlayableClass(Model):
    id: int
    name: LocalizedStr
    power_type: NamedRef | None = None


class PlayableRaceIndex(Model):
    races: list[NamedRef]


class PlayableRace(Model):
    id: int
    name: LocalizedStr
    faction: TypedName
    is_selectable: bool | None = None
    is_allied_race: bool | None = None


# --- game data: realms ---------------------------------------------------------------------


class Realm(Model):
    id: int
    slug: str
    name: LocalizedStr
    region: NamedRef | None = None
    connected_realm: Href | None = None
    category: LocalizedStr | None = None
    locale: str | None = None
    timezone: str | None = None
    type: TypedName | None = None
    is_tournament: bool | None = None


class RealmIndex(Model):
    realms: list[RealmRef]


class ConnectedRealm(Model):
    id: int
    realms: list[Realm]
    has_queue: bool | None = None
    status: TypedName | None = None
    population: TypedName | None = None


class ConnectedRealmIndex(Model):
    connected_realms: list[Href]


T = TypeVar("T")


class SearchResult(Model, Generic[T]):
    key: Href | None = None
    data: T


class ConnectedRealmSearch(Model):
    page: int
    page_size: int = Field(alias="pageSize")
    page_count: int = Field(alias="pageCount")
    max_page_size: int | None = Field(default=None, alias="maxPageSize")
    results: list[SearchResult[ConnectedRealm]]


# --- profile: account, character, guild ----------------------------------------------------


class AccountCharacter(Model):
    id: int
    name: str
    realm: RealmRef
    level: int | None = None
    playable_class: NamedRef | None = None
    playable_race: NamedRef | None = None
    gender: TypedName | None = None
    faction: TypedName | None = None
    character: Href | None = None
    protected_character: Href | None = None


class WowAccount(Model):
    id: int
    characters: list[AccountCharacter] = []


class AccountProfile(Model):
    id: int
    wow_accounts: list[WowAccount] = []

    @property
    def characters(self) -> list[AccountCharacter]:
        return [c for account in self.wow_accounts for c in account.characters]


class GuildRef(Model):
    key: Href | None = None
    id: int
    name: str
    realm: RealmRef
    faction: TypedName | None = None


class CharacterProfile(Model):
    id: int
    name: str
    realm: RealmRef
    level: int | None = None
    gender: TypedName | None = None
    faction: TypedName | None = None
    race: NamedRef | None = None
    character_class: NamedRef | None = None
    active_spec: NamedRef | None = None
    guild: GuildRef | None = None
    last_login_timestamp: int | None = None
    average_item_level: int | None = None
    equipped_item_level: int | None = None
    achievement_points: int | None = None


class MediaAsset(Model):
    key: str
    value: str


class CharacterMedia(Model):
    assets: list[MediaAsset] = []
    # Old-style responses carried the URLs as fields.
    avatar_url: str | None = None

    def asset_map(self) -> dict[str, str]:
        assets = {a.key: a.value for a in self.assets}
        if self.avatar_url and "avatar" not in assets:
            assets["avatar"] = self.avatar_url
        return assets


class CharacterStatus(Model):
    id: int
    is_valid: bool


class ProtectedCharacter(Model):
    id: int
    name: str
    money: int | None = None
    wow_account: int | None = None


class Guild(Model):
    id: int
    name: str
    realm: RealmRef
    faction: TypedName | None = None
    member_count: int | None = None
    achievement_points: int | None = None
    created_timestamp: int | None = None


class RosterCharacter(Model):
    id: int
    name: str
    realm: RealmRef
    level: int | None = None
    playable_class: KeyRef | None = None
    playable_race: KeyRef | None = None
    faction: TypedName | None = None


class RosterMember(Model):
    character: RosterCharacter
    rank: int


class GuildRoster(Model):
    guild: GuildRef
    members: list[RosterMember] = []


# --- profile: equipment and specializations (snapshots) -----------------------------------


class ItemLevel(Model):
    value: int
    display_string: str | None = None


class Enchantment(Model):
    enchantment_id: int | None = None
    display_string: LocalizedStr | None = None
    source_item: NamedRef | None = None


class Socket(Model):
    socket_type: TypedName | None = None
    item: NamedRef | None = None
    display_string: LocalizedStr | None = None


class ItemSet(Model):
    item_set: NamedRef
    display_string: LocalizedStr | None = None


class EquippedItem(Model):
    item: KeyRef
    slot: TypedName
    name: LocalizedStr | None = None
    quality: TypedName | None = None
    level: ItemLevel | None = None
    enchantments: list[Enchantment] = []
    sockets: list[Socket] = []
    set: ItemSet | None = None


class CharacterEquipment(Model):
    equipped_items: list[EquippedItem] = []


class TalentTooltip(Model):
    talent: NamedRef | None = None


class SelectedTalent(Model):
    id: int | None = None
    rank: int | None = None
    tooltip: TalentTooltip | None = None


class TalentLoadout(Model):
    is_active: bool = False
    talent_loadout_code: str | None = None
    selected_class_talents: list[SelectedTalent] = []
    selected_spec_talents: list[SelectedTalent] = []
    selected_hero_talents: list[SelectedTalent] = []


class CharacterSpecialization(Model):
    specialization: NamedRef | None = None
    loadouts: list[TalentLoadout] = []


class CharacterSpecializations(Model):
    specializations: list[CharacterSpecialization] = []
    active_specialization: NamedRef | None = None


class BlizzardErrorBody(Model):
    code: int | None = None
    type: str | None = None
    detail: str | None = None


# --- OAuth ---------------------------------------------------------------------------------


class TokenResponse(Model):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = 86399
    scope: str | None = None
    sub: str | None = None


class UserInfo(Model):
    sub: str
    id: int
    battletag: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _id_from_sub(cls, data: Any) -> Any:
        """Some servers answer only `sub` (the account id as a string)."""
        if isinstance(data, dict) and "id" not in data and str(data.get("sub", "")).isdigit():
            return {**data, "id": int(data["sub"])}
        return data
