"""Every recorded Battle.net sample parses into the model of its endpoint."""

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from shared.blizzard import models as m
from tests.conftest import SAMPLES
from tests.fakes.battlenet import sample

MODELS: dict[str, type[BaseModel]] = {
    "account_profile_summary.json": m.AccountProfile,
    "account_profile_summary_2.json": m.AccountProfile,
    "character_media.json": m.CharacterMedia,
    "character_equipment_summary.json": m.CharacterEquipment,
    "character_specializations_summary.json": m.CharacterSpecializations,
    "character_profile_summary.json": m.CharacterProfile,
    "character_status.json": m.CharacterStatus,
    "character_status_2.json": m.CharacterStatus,
    "connected_realm_detail.json": m.ConnectedRealm,
    "connected_realm_index.json": m.ConnectedRealmIndex,
    "error_404_not_found.json": m.BlizzardErrorBody,
    "error_403_account_inactive.json": m.BlizzardErrorBody,
    "guild.json": m.Guild,
    "guild_roster.json": m.GuildRoster,
    "playable_class_detail.json": m.PlayableClass,
    "playable_class_index.json": m.PlayableClassIndex,
    "playable_race_detail.json": m.PlayableRace,
    "playable_race_index.json": m.PlayableRaceIndex,
    "protected_character.json": m.ProtectedCharacter,
    "realm_detail.json": m.Realm,
    "realm_index.json": m.RealmIndex,
    "classic_progression_mop_roster_member_plus_profile.json": m.RosterMember,
}


def test_every_sample_file_has_a_model() -> None:
    files = {p.name for p in Path(SAMPLES).glob("*.json")}
    assert files and files <= set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sample_parses(name: str) -> None:
    parsed = MODELS[name].model_validate_json(sample(name))
    assert parsed is not None


def test_account_profile_fields() -> None:
    profile = m.AccountProfile.model_validate_json(sample("account_profile_summary_2.json"))
    chars = profile.characters
    assert [c.name for c in chars] == ["Adaxion", "Velukh", "Velukh"]
    assert chars[0].realm.slug == "area-52" and chars[0].realm.id == 1566
    assert chars[0].playable_class and chars[0].playable_class.name == "Evoker"
    assert chars[2].faction and chars[2].faction.type == "ALLIANCE"


def test_character_profile_and_media() -> None:
    profile = m.CharacterProfile.model_validate_json(sample("character_profile_summary.json"))
    assert (
        profile.guild and profile.guild.id == 43913043 and profile.guild.realm.slug == "norgannon"
    )
    assert profile.equipped_item_level == 430 and profile.last_login_timestamp == 1587702640000
    media = m.CharacterMedia.model_validate_json(sample("character_media.json"))
    assert media.asset_map()["avatar"].endswith("183057723-avatar.jpg")
    assert set(media.asset_map()) == {"avatar", "inset", "main", "main-raw"}


def test_race_faction_only_in_detail() -> None:
    index = json.loads(sample("playable_race_index.json"))
    assert all("faction" not in r for r in index["races"])
    race = m.PlayableRace.model_validate_json(sample("playable_race_detail.json"))
    assert race.faction.type == "HORDE"


def test_roster_members_without_class_names() -> None:
    roster = m.GuildRoster.model_validate_json(sample("guild_roster.json"))
    assert roster.guild.id == 40732076 and len(roster.members) == 3
    assert roster.members[0].character.playable_class
    assert roster.members[0].character.playable_class.id == 2
    mop = m.RosterMember.model_validate_json(
        sample("classic_progression_mop_roster_member_plus_profile.json")
    )
    assert mop.rank == 5 and mop.character.faction and mop.character.faction.name is None
    player = json.loads(sample("classic_progression_mop_roster_member_plus_profile.json"))["player"]
    assert m.CharacterProfile.model_validate(player).realm.slug == "raden"


def test_search_results_take_localized_names() -> None:
    search = m.ConnectedRealmSearch.model_validate(
        {
            "page": 1,
            "pageSize": 100,
            "maxPageSize": 1000,
            "pageCount": 1,
            "results": [
                {
                    "key": {"href": "https://x/data/wow/connected-realm/11"},
                    "data": {
                        "id": 11,
                        "realms": [
                            {
                                "id": 11,
                                "slug": "tichondrius",
                                "name": {"de_DE": "Tichondrius DE", "en_US": "Tichondrius"},
                                "category": {"en_US": "United States"},
                                "type": {"type": "NORMAL", "name": {"en_US": "Normal"}},
                                "locale": "enUS",
                                "timezone": "America/Los_Angeles",
                            }
                        ],
                    },
                }
            ],
        }
    )
    realm = search.results[0].data.realms[0]
    assert (realm.name, realm.category, realm.type and realm.type.name) == (
        "Tichondrius",
        "United States",
        "Normal",
    )


def test_equipment_and_specializations_normalize() -> None:
    from shared.services.snapshots import (
        equipment_content,
        equipment_item_level,
        talents_content,
    )

    gear = equipment_content(
        m.CharacterEquipment.model_validate_json(sample("character_equipment_summary.json"))
    )
    head = next(i for i in gear["items"] if i["slot"] == "HEAD")
    assert head == {
        "slot": "HEAD",
        "itemId": 212456,
        "name": "Dawnbreaker's Hood",
        "quality": "EPIC",
        "itemLevel": 639,
        "enchantments": [],
        "gems": [{"itemId": 213482, "name": "Masterful Amber"}],
        "set": "Regalia of the Near-Omniscient",
    }
    chest = next(i for i in gear["items"] if i["slot"] == "CHEST")
    assert chest["enchantments"] == [
        {"id": 7364, "description": "Enchanted: +745 Intellect and +5% Stamina"}
    ]
    assert equipment_item_level(gear) == (639 + 636) // 2  # the tabard has no item level
    talents = talents_content(
        m.CharacterSpecializations.model_validate_json(
            sample("character_specializations_summary.json")
        )
    )
    assert talents["spec"] == "Arcane" and talents["loadoutCode"].startswith("C4DAMhlVtghLZL4R")
    assert [(t["tree"], t["name"]) for t in talents["talents"]] == [
        ("class", "Blink"),
        ("class", "Arcane Warding"),
        ("spec", "Arcane Barrage"),
        ("hero", "Splintering Sorcery"),
    ]
