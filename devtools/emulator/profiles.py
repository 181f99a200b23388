"""JSON bodies of the profile namespace: account, characters, media, guilds, rosters."""

from __future__ import annotations

from urllib.parse import quote

from .data import Character, Guild, h
from .gamedata import CLASSES
from .shapes import (
    Hrefs,
    Json,
    character_path,
    class_ref,
    race_ref,
    realm_ref,
    type_name,
)

_CHARACTER_LINKS = (
    "achievements", "titles", "pvp_summary", "encounters", "media", "specializations",
    "statistics", "mythic_keystone_profile", "equipment", "appearance", "collections",
    "reputations", "quests", "achievements_statistics", "professions",
)  # fmt: skip
_LINK_PATHS = {
    "media": "character-media",
    "achievements_statistics": "achievements/statistics",
    "pvp_summary": "pvp-summary",
    "mythic_keystone_profile": "mythic-keystone-profile",
}


def protected_path(char: Character) -> str:
    return f"/profile/user/wow/protected-character/{char.realm.id}-{char.id}"


def guild_path(guild: Guild) -> str:
    return f"/data/wow/guild/{quote(guild.realm.slug)}/{quote(guild.slug)}"


def character_ref(hr: Hrefs, char: Character) -> Json:
    return {
        **hr.key(character_path(char), "profile"),
        "name": char.name,
        "id": char.id,
        "realm": realm_ref(hr, char.realm),
    }


def account_profile(hr: Hrefs, account_id: int, wow_accounts: dict[int, list[Character]]) -> Json:
    accounts = []
    for wow_id, chars in wow_accounts.items():
        items = [
            {
                "character": {"href": hr.url(character_path(c), "profile")},
                "protected_character": {"href": hr.url(protected_path(c), "profile")},
                "name": c.name,
                "id": c.id,
                "realm": realm_ref(hr, c.realm),
                "playable_class": class_ref(hr, c.class_id),
                "playable_race": race_ref(hr, c.race_id),
                "gender": type_name(c.gender),
                "faction": type_name(c.faction),
                "level": c.level,
            }
            for c in chars
        ]
        accounts.append({"id": wow_id, "characters": items})
    return {
        "_links": {
            **hr.self_link("/profile/user/wow"),
            "user": {"href": f"{hr.base}/profile/user"},
            "profile": {"href": hr.url("/profile/user/wow")},
        },
        "id": account_id,
        "wow_accounts": accounts,
        "collections": {"href": hr.url("/profile/user/wow/collections")},
    }


def guild_ref(hr: Hrefs, guild: Guild) -> Json:
    return {
        **hr.key(guild_path(guild), "profile"),
        "name": guild.name,
        "id": guild.id,
        "realm": realm_ref(hr, guild.realm),
        "faction": type_name(guild.faction),
    }


def character_profile(hr: Hrefs, char: Character, guild: Guild | None) -> Json:
    path = character_path(char)
    specs = dict(CLASSES[char.class_id].specs) if char.class_id in CLASSES else {}
    spec = f"/data/wow/playable-specialization/{char.spec_id}"
    body: Json = {
        "_links": hr.self_link(path),
        "id": char.id,
        "name": char.name,
        "gender": type_name(char.gender),
        "faction": type_name(char.faction),
        "race": race_ref(hr, char.race_id),
        "character_class": class_ref(hr, char.class_id),
        "active_spec": hr.ref(spec, "static", specs.get(char.spec_id, ""), char.spec_id),
        "realm": realm_ref(hr, char.realm),
    }
    if guild is not None:
        body["guild"] = guild_ref(hr, guild)
    body.update(
        level=char.level,
        experience=0,
        achievement_points=h("achievements", char.id) % 30000,
        last_login_timestamp=char.last_login,
        average_item_level=char.item_level,
        equipped_item_level=char.equipped_item_level,
    )
    for link in _CHARACTER_LINKS:
        body[link] = {"href": hr.url(f"{path}/{_LINK_PATHS.get(link, link)}")}
    if h("title", char.id) % 3 == 0:  # like the real API, only characters showing a title
        title = hr.ref("/data/wow/title/62", "static", "Battlelord", 62)
        body["active_title"] = {**title, "display_string": "Battlelord {name}"}
    return body


def render_url(char: Character, asset: str) -> str:
    region = f"{char.flavor}-{char.region}" if char.flavor else char.region
    ext = "png" if asset == "main-raw" else "jpg"
    slug = quote(char.realm.slug)
    return (
        f"https://render.worldofwarcraft.com/{region}/character/{slug}/{char.id % 256}/"
        f"{char.id}-{asset}.{ext}"
    )


def character_media(hr: Hrefs, char: Character) -> Json:
    assets = ("avatar", "inset", "main", "main-raw")
    return {
        "_links": hr.self_link(f"{character_path(char)}/character-media"),
        "character": character_ref(hr, char),
        "assets": [{"key": a, "value": render_url(char, a)} for a in assets],
    }


def character_status(hr: Hrefs, char: Character) -> Json:
    return {
        "_links": hr.self_link(f"{character_path(char)}/status"),
        "id": char.id,
        "is_valid": True,
    }


def protected_character(hr: Hrefs, char: Character) -> Json:
    seed = h("protected", char.id)
    spot = {
        "zone": {"name": "Valdrakken", "id": 13862},
        "map": {"name": "Dragon Isles", "id": 2444},
    }
    return {
        "_links": {
            **hr.self_link(protected_path(char)),
            "user": {"href": f"{hr.base}/profile/user"},
            "profile": {"href": hr.url("/profile/user/wow")},
        },
        "id": char.id,
        "name": char.name,
        "money": seed % 10_000_000_000,
        "character": character_ref(hr, char),
        "protected_stats": {
            "total_number_deaths": seed % 5000,
            "total_gold_gained": seed % 20_000_000_000,
            "total_gold_lost": seed % 10_000_000_000,
            "total_item_value_gained": seed % 4_000_000_000,
            "level_number_deaths": seed % 300,
            "level_gold_gained": seed % 2_000_000_000,
            "level_gold_lost": seed % 1_000_000_000,
            "level_item_value_gained": seed % 800_000_000,
        },
        "position": {**spot, "x": 158.7, "y": -594.1, "z": 28.6, "facing": 0.81},
        "bind_position": {**spot, "x": 184.1, "y": -593.0, "z": 31.5, "facing": 3.74},
        "wow_account": char.wow_account,
    }


def _crest_color(seed: int) -> Json:
    return {"id": seed % 20, "rgba": {"r": seed % 256, "g": seed // 7 % 256, "b": 90, "a": 1}}


def guild(hr: Hrefs, g: Guild, member_count: int) -> Json:
    path = guild_path(g)
    seed = h("crest", g.id)
    emblem, border = seed % 200, seed % 6
    return {
        "_links": hr.self_link(path),
        "id": g.id,
        "name": g.name,
        "faction": type_name(g.faction),
        "achievement_points": seed % 3000,
        "member_count": member_count,
        "realm": realm_ref(hr, g.realm),
        "crest": {
            "emblem": {
                "id": emblem,
                "media": {
                    **hr.key(f"/data/wow/media/guild-crest/emblem/{emblem}", "static"),
                    "id": emblem,
                },
                "color": _crest_color(seed),
            },
            "border": {
                "id": border,
                "media": {
                    **hr.key(f"/data/wow/media/guild-crest/border/{border}", "static"),
                    "id": border,
                },
                "color": _crest_color(seed >> 8),
            },
            "background": {"color": _crest_color(seed >> 16)},
        },
        "roster": {"href": hr.url(f"{path}/roster")},
        "achievements": {"href": hr.url(f"{path}/achievements")},
        "created_timestamp": g.created,
        "activity": {"href": hr.url(f"{path}/activity")},
    }


def roster(hr: Hrefs, g: Guild, members: list[Character]) -> Json:
    items = [
        {
            "character": {
                **hr.key(character_path(c), "profile"),
                "name": c.name,
                "id": c.id,
                "realm": realm_ref(hr, c.realm, with_name=False),
                "level": c.level,
                "playable_class": class_ref(hr, c.class_id, with_name=False),
                "playable_race": race_ref(hr, c.race_id, with_name=False),
            },
            "rank": c.rank,
        }
        for c in members
    ]
    return {
        "_links": hr.self_link(f"{guild_path(g)}/roster"),
        "guild": guild_ref(hr, g),
        "members": items,
    }
