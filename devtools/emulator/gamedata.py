"""Static game data the emulator serves: regions, flavors, namespaces, classes and races.

Kept as plain tables so the rest of the emulator (and a reader) can see what each game
flavor offers. Flavor is the namespace infix: "" (retail), classic1x, classicann, classic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REGIONS = ("us", "eu", "kr", "tw", "cn")
FLAVORS = ("", "classic1x", "classicann", "classic")
KINDS = ("static", "dynamic", "profile")
#: region -> (Blizzard region id, English name)
REGION_INFO = {
    "us": (1, "North America"),
    "kr": (2, "Korea"),
    "eu": (3, "Europe"),
    "tw": (4, "Taiwan"),
    "cn": (5, "China"),
}
#: game version (as the app names it) -> namespace flavor (DESIGN.md section 4)
GAME_VERSIONS = {
    "retail": "",
    "classic_era": "classic1x",
    "classic_sod": "classic1x",
    "classic_anniversary": "classicann",
    "classic_progression": "classic",
}
#: the versioned static namespace used in hrefs, per flavor
STATIC_VERSIONS = {
    "": "11.1.5_60392",
    "classic1x": "1.15.7_60013",
    "classicann": "1.15.7_60013",
    "classic": "5.5.1_63086",
}
MAX_LEVEL = {"": 80, "classic1x": 60, "classicann": 60, "classic": 90}
LOCALES = (
    "en_US", "es_MX", "pt_BR", "de_DE", "en_GB", "es_ES",
    "fr_FR", "it_IT", "ru_RU", "ko_KR", "zh_TW", "zh_CN",
)  # fmt: skip
FACTION_NAMES = {"ALLIANCE": "Alliance", "HORDE": "Horde", "NEUTRAL": "Neutral"}

_NAMESPACE = re.compile(
    r"^(static|dynamic|profile)(?:-(\d+\.\d+\.\d+_\d+))?"
    r"(?:-(classic1x|classicann|classic))?-(us|eu|kr|tw|cn)$"
)


@dataclass(frozen=True)
class Namespace:
    kind: str
    flavor: str
    region: str

    def text(self, kind: str | None = None) -> str:
        """The namespace string for `kind` (default: this one's), versioned when static."""
        kind = kind or self.kind
        parts = [kind]
        if kind == "static":
            parts.append(STATIC_VERSIONS[self.flavor])
        if self.flavor:
            parts.append(self.flavor)
        parts.append(self.region)
        return "-".join(parts)


def parse_namespace(text: str) -> Namespace | None:
    match = _NAMESPACE.match(text.strip().lower())
    if match is None:
        return None
    kind, _version, flavor, region = match.groups()
    return Namespace(kind=kind, flavor=flavor or "", region=region)


@dataclass(frozen=True)
class PlayableClass:
    id: int
    name: str
    power_type: tuple[int, str]
    specs: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class PlayableRace:
    id: int
    name: str
    faction: str
    allied: bool


#: id, name, power type id, power type, "spec id Spec name|..."
_CLASS_TABLE = (
    (1, "Warrior", 1, "Rage", "71 Arms|72 Fury|73 Protection"),
    (2, "Paladin", 0, "Mana", "65 Holy|66 Protection|70 Retribution"),
    (3, "Hunter", 2, "Focus", "253 Beast Mastery|254 Marksmanship|255 Survival"),
    (4, "Rogue", 3, "Energy", "259 Assassination|260 Outlaw|261 Subtlety"),
    (5, "Priest", 0, "Mana", "256 Discipline|257 Holy|258 Shadow"),
    (6, "Death Knight", 6, "Runic Power", "250 Blood|251 Frost|252 Unholy"),
    (7, "Shaman", 0, "Mana", "262 Elemental|263 Enhancement|264 Restoration"),
    (8, "Mage", 0, "Mana", "62 Arcane|63 Fire|64 Frost"),
    (9, "Warlock", 0, "Mana", "265 Affliction|266 Demonology|267 Destruction"),
    (10, "Monk", 3, "Energy", "268 Brewmaster|270 Mistweaver|269 Windwalker"),
    (11, "Druid", 0, "Mana", "102 Balance|103 Feral|104 Guardian|105 Restoration"),
    (12, "Demon Hunter", 17, "Fury", "577 Havoc|581 Vengeance"),
    (13, "Evoker", 0, "Mana", "1467 Devastation|1468 Preservation|1473 Augmentation"),
)


def _specs(text: str) -> tuple[tuple[int, str], ...]:
    pairs = (item.split(" ", 1) for item in text.split("|"))
    return tuple((int(spec_id), name) for spec_id, name in pairs)


CLASSES = {
    cid: PlayableClass(cid, name, (power_id, power), _specs(specs))
    for cid, name, power_id, power, specs in _CLASS_TABLE
}

_A, _H = "ALLIANCE", "HORDE"
RACES = {
    r.id: r
    for r in (
        PlayableRace(1, "Human", _A, False), PlayableRace(2, "Orc", _H, False),
        PlayableRace(3, "Dwarf", _A, False), PlayableRace(4, "Night Elf", _A, False),
        PlayableRace(5, "Undead", _H, False), PlayableRace(6, "Tauren", _H, False),
        PlayableRace(7, "Gnome", _A, False), PlayableRace(8, "Troll", _H, False),
        PlayableRace(9, "Goblin", _H, False), PlayableRace(10, "Blood Elf", _H, False),
        PlayableRace(11, "Draenei", _A, False), PlayableRace(22, "Worgen", _A, False),
        PlayableRace(24, "Pandaren", "NEUTRAL", False), PlayableRace(25, "Pandaren", _A, False),
        PlayableRace(26, "Pandaren", _H, False), PlayableRace(27, "Nightborne", _H, True),
        PlayableRace(28, "Highmountain Tauren", _H, True), PlayableRace(29, "Void Elf", _A, True),
        PlayableRace(30, "Lightforged Draenei", _A, True),
        PlayableRace(31, "Zandalari Troll", _H, True), PlayableRace(32, "Kul Tiran", _A, True),
        PlayableRace(34, "Dark Iron Dwarf", _A, True), PlayableRace(35, "Vulpera", _H, True),
        PlayableRace(36, "Mag'har Orc", _H, True), PlayableRace(37, "Mechagnome", _A, True),
        PlayableRace(52, "Dracthyr", _A, False), PlayableRace(70, "Dracthyr", _H, False),
    )
}  # fmt: skip

CLASSIC_CLASS_IDS = (1, 2, 3, 4, 5, 7, 8, 9, 11)
#: vanilla race -> classes it can be
CLASSIC_COMBOS = {
    1: (1, 2, 4, 5, 8, 9), 2: (1, 3, 4, 7, 9), 3: (1, 2, 3, 4, 5), 4: (1, 3, 4, 5, 11),
    5: (1, 4, 5, 8, 9), 6: (1, 3, 7, 11), 7: (1, 4, 8, 9), 8: (1, 3, 4, 5, 7, 8),
}  # fmt: skip
_PALADIN = {1, 3, 6, 10, 11, 30, 31, 34}
_SHAMAN = {2, 3, 6, 8, 9, 11, 24, 25, 26, 28, 31, 32, 34, 35, 36}
_DRUID = {4, 6, 8, 22, 28, 31, 32}
_DEMON_HUNTER = {4, 10}


def classes_for(flavor: str) -> dict[int, PlayableClass]:
    ids = CLASSIC_CLASS_IDS if flavor else tuple(CLASSES)
    return {i: CLASSES[i] for i in ids}


def races_for(flavor: str) -> dict[int, PlayableRace]:
    ids = tuple(CLASSIC_COMBOS) if flavor else tuple(RACES)
    return {i: RACES[i] for i in ids}


def race_classes(flavor: str, race_id: int) -> tuple[int, ...]:
    """Class ids a race can play in that flavor (an approximation of the game's rules)."""
    if flavor:
        return CLASSIC_COMBOS.get(race_id, ())
    if race_id not in RACES:
        return ()
    if race_id in (52, 70):
        return (1, 3, 4, 5, 8, 9, 13)
    ids = {1, 3, 4, 5, 6, 8, 9, 10}
    for extra, races in ((2, _PALADIN), (7, _SHAMAN), (11, _DRUID), (12, _DEMON_HUNTER)):
        if race_id in races:
            ids.add(extra)
    return tuple(sorted(ids))


def class_races(flavor: str, class_id: int) -> tuple[int, ...]:
    return tuple(r for r in races_for(flavor) if class_id in race_classes(flavor, r))
