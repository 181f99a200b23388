"""Admin JSON for characters: what `GET /_emulator/accounts/{n}` shows and `PUT` accepts.

A PUT entry may give any of the writable fields; the others default to the generated
character at the same position of that account (so `[{"name": "New"}]` renames the first
character and keeps its id), or to fixed values past the generated list.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .data import WORLD_EPOCH_MS, Character, make_character, wow_account_ids
from .gamedata import CLASSES, FLAVORS, GAME_VERSIONS, RACES, REGIONS
from .realms import realm_by_slug, realms_for

WRITABLE = (
    "id", "name", "region", "flavor", "game_version", "realm", "level", "class_id", "race_id",
    "gender", "spec_id", "guild", "rank", "inactive", "media_fails", "last_login",
    "item_level", "wow_account",
)  # fmt: skip
READ_ONLY = (
    "realm_id", "realm_name", "class_name", "race_name", "faction", "guild_id",
    "equipped_item_level", "account",
)  # fmt: skip
ALIASES = {"realm_slug": "realm", "guild_name": "guild"}


class OverrideError(ValueError):
    """A PUT body that cannot become characters; the message says why."""


def character_json(char: Character, guild_id: int | None) -> dict[str, Any]:
    race = RACES.get(char.race_id)
    cls = CLASSES.get(char.class_id)
    return {
        "id": char.id,
        "name": char.name,
        "region": char.region,
        "flavor": char.flavor,
        "realm": char.realm.slug,
        "realm_id": char.realm.id,
        "realm_name": char.realm.name,
        "level": char.level,
        "class_id": char.class_id,
        "class_name": cls.name if cls else None,
        "race_id": char.race_id,
        "race_name": race.name if race else None,
        "faction": char.faction,
        "gender": char.gender,
        "spec_id": char.spec_id,
        "guild": char.guild,
        "guild_id": guild_id,
        "rank": char.rank,
        "inactive": char.inactive,
        "media_fails": char.media_fails,
        "last_login": char.last_login,
        "item_level": char.item_level,
        "equipped_item_level": char.equipped_item_level,
        "wow_account": char.wow_account,
        "account": char.account,
    }


def _typed(fields: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = fields.get(key, default)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise OverrideError(f"{key} must be an integer")
    if kind is bool and not isinstance(value, bool):
        raise OverrideError(f"{key} must be true or false")
    if kind is str and not isinstance(value, str):
        raise OverrideError(f"{key} must be a string")
    return value


def _flavor(fields: dict[str, Any], default: str) -> str:
    if "game_version" in fields:
        version = fields["game_version"]
        if version not in GAME_VERSIONS:
            raise OverrideError(f"game_version must be one of {sorted(GAME_VERSIONS)}")
        return GAME_VERSIONS[version]
    flavor = fields.get("flavor", default)
    flavor = "" if flavor == "retail" else flavor
    if flavor not in FLAVORS:
        raise OverrideError(f"flavor must be one of {['retail', *FLAVORS[1:]]}")
    return str(flavor)


def parse_character(n: int, position: int, raw: Any, base: Character | None) -> Character:
    if not isinstance(raw, dict):
        raise OverrideError(f"characters[{position}] must be an object")
    fields: dict[str, Any] = {ALIASES.get(str(k), str(k)): v for k, v in raw.items()}
    unknown = sorted(set(fields) - set(WRITABLE) - set(READ_ONLY))
    if unknown:
        raise OverrideError(f"characters[{position}]: unknown fields {unknown}")
    region = _typed(fields, "region", str, base.region if base else "us")
    if region not in REGIONS:
        raise OverrideError(f"region must be one of {list(REGIONS)}")
    flavor = _flavor(fields, base.flavor if base else "")
    same_place = base is not None and (base.region, base.flavor) == (region, flavor)
    default_slug = base.realm.slug if base and same_place else realms_for(region, flavor)[0].slug
    slug = _typed(fields, "realm", str, default_slug)
    realm = realm_by_slug(region, flavor, slug)
    if realm is None:
        raise OverrideError(f"no realm {slug!r} in {region} {flavor or 'retail'}")
    char_id = _typed(fields, "id", int, base.id if base else n * 1000 + 900 + position)
    if base is None or not same_place:
        base = make_character(char_id, "", realm, None, "ALLIANCE", n)
    name = _typed(fields, "name", str, base.name or f"Override{position}")
    if not name:
        raise OverrideError("name must not be empty")
    guild = fields.get("guild", base.guild if base.realm == realm else None)
    if guild is not None and (not isinstance(guild, str) or not guild.strip()):
        raise OverrideError("guild must be a non-empty string or null")
    class_id = _typed(fields, "class_id", int, base.class_id)
    race_id = _typed(fields, "race_id", int, base.race_id)
    if class_id not in CLASSES:
        raise OverrideError(f"unknown class_id {class_id}")
    if race_id not in RACES:
        raise OverrideError(f"unknown race_id {race_id}")
    gender = _typed(fields, "gender", str, base.gender).upper()
    if gender not in ("MALE", "FEMALE"):
        raise OverrideError("gender must be MALE or FEMALE")
    specs = CLASSES[class_id].specs
    spec_default = base.spec_id if class_id == base.class_id else specs[0][0]
    wow_ids = wow_account_ids(n)
    return replace(
        base,
        id=char_id,
        name=name,
        region=region,
        flavor=flavor,
        realm=realm,
        level=_typed(fields, "level", int, base.level),
        class_id=class_id,
        race_id=race_id,
        gender=gender,
        spec_id=_typed(fields, "spec_id", int, spec_default),
        guild=guild.strip() if isinstance(guild, str) else None,
        rank=_typed(fields, "rank", int, base.rank),
        last_login=_typed(fields, "last_login", int, base.last_login or WORLD_EPOCH_MS),
        item_level=_typed(fields, "item_level", int, base.item_level),
        account=n,
        wow_account=_typed(
            fields, "wow_account", int, base.wow_account or wow_ids[position % len(wow_ids)]
        ),
        inactive=_typed(fields, "inactive", bool, False),
        media_fails=_typed(fields, "media_fails", bool, False),
    )


def parse_characters(n: int, body: Any, generated: list[Character]) -> list[Character]:
    if not isinstance(body, dict) or not isinstance(body.get("characters"), list):
        raise OverrideError('body must be {"characters": [...]}')
    chars = [
        parse_character(n, i, raw, generated[i] if i < len(generated) else None)
        for i, raw in enumerate(body["characters"])
    ]
    ids = [c.id for c in chars]
    if len(ids) != len(set(ids)):
        raise OverrideError("character ids must be unique")
    return chars
