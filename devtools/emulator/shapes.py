"""JSON bodies in the shapes of Battle.net's responses (see /work/shared/bnet-samples).

hrefs point at the emulator itself (the request's host), so a client following one stays
local; their paths and namespaces are Blizzard's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .data import Character, h
from .gamedata import (
    CLASSES,
    FACTION_NAMES,
    LOCALES,
    RACES,
    REGION_INFO,
    Namespace,
    class_races,
    classes_for,
    race_classes,
)
from .names import name_key
from .realms import ConnectedRealm, Realm

Json = dict[str, Any]
_NATIVE_LOCALE = {"koKR": "ko_KR", "zhTW": "zh_TW", "zhCN": "zh_CN", "ruRU": "ru_RU"}


def localized(text: str, native: str | None = None, locale: str | None = None) -> Json:
    """A {locale: text} map; `native` replaces the text in the realm's own locale family."""
    names = {loc: text for loc in LOCALES}
    if native and locale in _NATIVE_LOCALE:
        names[_NATIVE_LOCALE[locale]] = native
    return names


class Hrefs:
    """Builds hrefs for one request: `{base}{path}?namespace={kind-flavor-region}`."""

    def __init__(self, base: str, ns: Namespace) -> None:
        self.base = base.rstrip("/")
        self.ns = ns

    def url(self, path: str, kind: str | None = None) -> str:
        return f"{self.base}{path}?namespace={self.ns.text(kind)}"

    def key(self, path: str, kind: str) -> Json:
        return {"key": {"href": self.url(path, kind)}}

    def ref(self, path: str, kind: str, name: str, ident: int) -> Json:
        return {**self.key(path, kind), "name": name, "id": ident}

    def self_link(self, path: str, kind: str | None = None) -> Json:
        return {"self": {"href": self.url(path, kind)}}


def character_path(char: Character) -> str:
    return f"/profile/wow/character/{quote(char.realm.slug)}/{quote(name_key(char.name))}"


def realm_ref(hr: Hrefs, realm: Realm, with_name: bool = True) -> Json:
    ref = hr.ref(f"/data/wow/realm/{realm.id}", "dynamic", realm.name, realm.id)
    if not with_name:
        del ref["name"]
    return {**ref, "slug": realm.slug}


def class_ref(hr: Hrefs, class_id: int, with_name: bool = True) -> Json:
    cls = CLASSES.get(class_id)
    name = cls.name if cls else ""
    ref = hr.ref(f"/data/wow/playable-class/{class_id}", "static", name, class_id)
    return ref if with_name else {"key": ref["key"], "id": class_id}


def race_ref(hr: Hrefs, race_id: int, with_name: bool = True) -> Json:
    race = RACES.get(race_id)
    name = race.name if race else ""
    ref = hr.ref(f"/data/wow/playable-race/{race_id}", "static", name, race_id)
    return ref if with_name else {"key": ref["key"], "id": race_id}


def type_name(kind: str) -> Json:
    return {"type": kind, "name": FACTION_NAMES.get(kind, kind.title())}


def class_index(hr: Hrefs) -> Json:
    classes = [class_ref(hr, c) for c in classes_for(hr.ns.flavor)]
    return {"_links": hr.self_link("/data/wow/playable-class/"), "classes": classes}


def class_detail(hr: Hrefs, class_id: int) -> Json:
    cls = CLASSES[class_id]
    power_id, power = cls.power_type
    path = f"/data/wow/playable-class/{class_id}"
    specs = [hr.ref(f"/data/wow/playable-specialization/{i}", "static", n, i) for i, n in cls.specs]
    return {
        "_links": hr.self_link(path),
        "id": cls.id,
        "name": cls.name,
        "gender_name": {"male": cls.name, "female": cls.name},
        "power_type": hr.ref(f"/data/wow/power-type/{power_id}", "static", power, power_id),
        "specializations": specs,
        "media": {**hr.key(f"/data/wow/media/playable-class/{class_id}", "static"), "id": class_id},
        "pvp_talent_slots": {"href": hr.url(f"{path}/pvp-talent-slots")},
        "playable_races": [race_ref(hr, r) for r in class_races(hr.ns.flavor, class_id)],
    } | _additional_power(hr, class_id)


def _additional_power(hr: Hrefs, class_id: int) -> Json:
    if class_id != 7:  # as in the sample: Shaman has Maelstrom
        return {}
    maelstrom = hr.ref("/data/wow/power-type/11", "static", "Maelstrom", 11)
    return {"additional_power_types": [maelstrom]}


def race_index(hr: Hrefs, race_ids: list[int]) -> Json:
    races = [race_ref(hr, r) for r in race_ids]
    return {"_links": hr.self_link("/data/wow/playable-race/"), "races": races}


def race_detail(hr: Hrefs, race_id: int) -> Json:
    race = RACES[race_id]
    return {
        "_links": hr.self_link(f"/data/wow/playable-race/{race_id}"),
        "id": race.id,
        "name": race.name,
        "gender_name": {"male": race.name, "female": race.name},
        "faction": type_name(race.faction),
        "is_selectable": True,
        "is_allied_race": race.allied,
        "playable_classes": [class_ref(hr, c) for c in race_classes(hr.ns.flavor, race_id)],
    }


def realm_index(hr: Hrefs, realms: tuple[Realm, ...]) -> Json:
    items = [realm_ref(hr, r) for r in realms]
    return {"_links": hr.self_link("/data/wow/realm/"), "realms": items}


def realm_detail(hr: Hrefs, realm: Realm, links: bool = True) -> Json:
    region_id, region_name = REGION_INFO[realm.region]
    body: Json = {"_links": hr.self_link(f"/data/wow/realm/{quote(realm.slug)}")} if links else {}
    body.update(
        id=realm.id,
        region=hr.ref(f"/data/wow/region/{region_id}", "dynamic", region_name, region_id),
        connected_realm={"href": hr.url(f"/data/wow/connected-realm/{realm.connected_id}")},
        name=realm.name,
        category=realm.category,
        locale=realm.locale,
        timezone=realm.timezone,
        type={"type": "RP", "name": "Roleplaying"} if realm.rp else type_name("NORMAL"),
        is_tournament=False,
        slug=realm.slug,
    )
    return body


def _population(cr: ConnectedRealm) -> tuple[str, str]:
    return (("FULL", "Full"), ("HIGH", "High"), ("MEDIUM", "Medium"), ("LOW", "Low"))[
        h("population", cr.region, cr.flavor, cr.id) % 4
    ]


def connected_realm_index(hr: Hrefs, groups: tuple[ConnectedRealm, ...]) -> Json:
    hrefs = [{"href": hr.url(f"/data/wow/connected-realm/{g.id}")} for g in groups]
    return {"_links": hr.self_link("/data/wow/connected-realm/"), "connected_realms": hrefs}


def connected_realm(hr: Hrefs, cr: ConnectedRealm) -> Json:
    path = f"/data/wow/connected-realm/{cr.id}"
    pop_type, pop_name = _population(cr)
    return {
        "_links": hr.self_link(path),
        "id": cr.id,
        "has_queue": False,
        "status": type_name("UP"),
        "population": {"type": pop_type, "name": pop_name},
        "realms": [realm_detail(hr, r, links=False) for r in cr.realms],
        "mythic_leaderboards": {"href": hr.url(f"{path}/mythic-leaderboard/")},
        "auctions": {"href": hr.url(f"{path}/auctions")},
    }


def search_result(hr: Hrefs, cr: ConnectedRealm) -> Json:
    pop_type, pop_name = _population(cr)
    realms = []
    for r in cr.realms:
        region_id, region_name = REGION_INFO[r.region]
        kind, kind_name = ("RP", "Roleplaying") if r.rp else ("NORMAL", "Normal")
        realms.append(
            {
                "id": r.id,
                "region": {"name": localized(region_name), "id": region_id},
                "name": localized(r.english, r.name, r.locale),
                "category": localized(r.category),
                "locale": r.locale,
                "timezone": r.timezone,
                "type": {"type": kind, "name": localized(kind_name)},
                "is_tournament": False,
                "slug": r.slug,
            }
        )
    return {
        "key": {"href": hr.url(f"/data/wow/connected-realm/{cr.id}")},
        "data": {
            "id": cr.id,
            "has_queue": False,
            "status": {"type": "UP", "name": localized("Up")},
            "population": {"type": pop_type, "name": localized(pop_name)},
            "realms": realms,
        },
    }
