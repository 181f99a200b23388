"""Realm tables per (region, flavor): real-looking names and ids, grouped in connected realms.

Each table line is one connected realm (its id is its first realm's id); entries are
`id:name[=slug][/english name]:zone[*]` separated by `;` (`*` marks a roleplaying realm).
Slugs are data, never derived by clients: some are non-ASCII (`aggra-português`,
`гордунни`) and Korean/Chinese realms have ASCII slugs unlike their names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

#: zone code -> (category, locale, timezone)
_ZONES = {
    "e": ("United States", "enUS", "America/New_York"),
    "c": ("United States", "enUS", "America/Chicago"),
    "m": ("United States", "enUS", "America/Denver"),
    "w": ("United States", "enUS", "America/Los_Angeles"),
    "o": ("Oceanic", "enUS", "Australia/Melbourne"),
    "b": ("Brazil", "ptBR", "America/Sao_Paulo"),
    "l": ("Latin America", "esMX", "America/Chicago"),
    "en": ("English", "enGB", "Europe/Paris"),
    "de": ("German", "deDE", "Europe/Paris"),
    "fr": ("French", "frFR", "Europe/Paris"),
    "es": ("Spanish", "esES", "Europe/Paris"),
    "ru": ("Russian", "ruRU", "Europe/Paris"),
    "it": ("Italian", "itIT", "Europe/Paris"),
    "pt": ("Portuguese", "ptPT", "Europe/Paris"),
    "kr": ("Korea", "koKR", "Asia/Seoul"),
    "tw": ("Taiwan", "zhTW", "Asia/Taipei"),
    "cn": ("China", "zhCN", "Asia/Shanghai"),
}

_TABLES: dict[tuple[str, str], str] = {
    ("us", ""): """
1566:Area 52:e
11:Tichondrius:w
76:Sargeras:c
60:Stormrage:e
57:Illidan:c
1262:Norgannon:e;1297:Arygos:e
15:Deathwing:m;1146:Korgath:c;1353:Bladefist:w
64:Bloodhoof:e;1258:Duskwood:e
1369:Wyrmrest Accord:w*
1365:Moon Guard:c*
75:Argent Dawn:e*;1129:Agamaggan:e
1068:Gul'dan:c;1067:Cho'gall:c;1069:Kael'thas:c
121:Azjol-Nerub=azjolnerub:c;1284:Aerie Peak:w
1428:Quel'Thalas:l;1425:Drakkari:l;1427:Ragnaros:l
3209:Azralon:b;3208:Nemesis:b
3721:Caelestrasz:o;3725:Frostmourne:o
3726:Khaz'goroth:o;3735:Dath'Remar:o
3723:Barthilas:o
1372:Quel'dorei:c;1185:Sen'jin:c
1136:Aegwynn:c;1349:Korialstrasz:w
5:Proudmoore:w
1184:Vek'nilash:c;61:Zul'jin:e
1354:Shu'halo:w;1370:Farstriders:c*
1072:Ravencrest:c;1282:Altar of Storms:e
1288:Anvilmar:w
1263:Thrall:e
""",
    ("eu", ""): """
3391:Silvermoon:en
1403:Draenor:en;1417:Azuremyst:en
1305:Kazzak:en
1084:Tarren Mill:en
1329:Ravencrest:en
3674:Twisting Nether:en
536:Argent Dawn:en*
1092:Drak'thul:en;1081:Burning Blade:en
1096:Defias Brotherhood:en*;1606:Sporeggar:en*;1608:The Venture Co:en*
580:Blackrock:de
581:Blackmoore:de
604:Thrall:de;612:Kael'thas:de
1105:Die Aldor:de*
542:Hyjal:fr
539:Archimonde:fr
1335:Ysondre:fr;1334:Eldre'Thalas:fr
1621:Dalaran:fr;1623:Marécages de Zangar=marécages-de-zangar:fr
1379:Sanguino:es;1382:Shen'dralar:es;1383:Uldum:es
1378:C'Thun:es
1303:Aggra (Português)=aggra-português:pt;1304:Grim Batol:en
1602:Гордунни=гордунни/Gordunni:ru
1615:Ревущий фьорд=ревущий-фьорд/Howling Fjord:ru
1604:Свежеватель Душ=свежеватель-душ/Soulflayer:ru;1614:Галакронд=галакронд/Galakrond:ru
1316:Nemesis:it
1309:Pozzo dell'Eternità=pozzo-delleternità:it
633:Outland:en
1080:Khadgar:en;1082:Bloodhoof:en
""",
    ("kr", ""): """
205:아즈샤라=azshara/Azshara:kr
210:듀로탄=durotan/Durotan:kr;2116:줄진=zuljin/Zul'jin:kr
214:윈드러너=windrunner/Windrunner:kr;2079:와일드해머=wildhammer/Wildhammer:kr
2108:알렉스트라자=alexstrasza/Alexstrasza:kr
2106:렉사르=rexxar/Rexxar:kr;2110:말퓨리온=malfurion/Malfurion:kr
""",
    ("tw", ""): """
963:暗影之月=shadowmoon/Shadowmoon:tw
966:憤怒使者=wrathbringer/Wrathbringer:tw;980:日落沼澤=sundown-marsh/Sundown Marsh:tw
964:尖石=spirestone/Spirestone:tw
985:水晶之刺=crystalpine-stinger/Crystalpine Stinger:tw;999:世界之樹=world-tree/World Tree:tw
3663:夜空之歌=nightsong/Nightsong:tw
""",
    ("cn", ""): """
729:死亡之翼=deathwing/Deathwing:cn
728:燃烧之刃=burning-blade/Burning Blade:cn;1487:主宰之剑=blade-of-the-master/Master's Blade:cn
3752:白银之手=silver-hand/Silver Hand:cn
""",
    ("us", "classic1x"): """
4395:Whitemane:w
4384:Mankrik:e;4385:Pagle:c
4408:Faerlina:e
5812:Crusader Strike:w
5813:Wild Growth:e;5814:Lone Wolf:e
""",
    ("eu", "classic1x"): """
4465:Firemaw:en
4703:Gehennas:en;4701:Everlook:de
4474:Хроми=хроми/Chromie:ru
5827:Living Flame:en
""",
    ("us", "classicann"): """
6103:Dreamscythe:w
6104:Nightslayer:e
6105:Doomhowl:e
""",
    ("eu", "classicann"): """
6111:Thunderstrike:en
6112:Spineshatter:en;6113:Soulseeker:en
""",
    ("us", "classic"): """
6361:Ra-den=raden:e
4728:Benediction:e
4647:Grobbulus:w*;6359:Nazgrim:w
""",
    ("eu", "classic"): """
4440:Mirage Raceway:en
4667:Пламегор=пламегор/Flamegor:ru
4476:Golemagg:en
""",
}
for _region, _native in (("kr", "kr"), ("tw", "tw"), ("cn", "cn")):
    _TABLES[(_region, "classic1x")] = f"4417:Lokholar=lokholar:{_native};4419:Iceblood:{_native}"
    _TABLES[(_region, "classicann")] = f"6130:Ashbringer=ashbringer:{_native}"
    _TABLES[(_region, "classic")] = f"4840:Shimmering Flats=shimmering-flats:{_native}"


@dataclass(frozen=True)
class Realm:
    id: int
    name: str
    slug: str
    english: str
    region: str
    flavor: str
    connected_id: int
    category: str
    locale: str
    timezone: str
    rp: bool
    ordinal: int  # unique over every table; used to derive guild ids


@dataclass(frozen=True)
class ConnectedRealm:
    id: int
    region: str
    flavor: str
    realms: tuple[Realm, ...]


def _default_slug(name: str) -> str:
    return name.lower().replace("'", "").replace(" ", "-")


@cache
def _build() -> dict[tuple[str, str], tuple[ConnectedRealm, ...]]:
    tables: dict[tuple[str, str], tuple[ConnectedRealm, ...]] = {}
    ordinal = 0
    for (region, flavor), text in _TABLES.items():
        groups: list[ConnectedRealm] = []
        for line in text.strip().splitlines():
            members: list[Realm] = []
            for entry in line.split(";"):
                rid, label, zone = entry.split(":")
                label, _, english = label.partition("/")
                name, _, slug = label.partition("=")
                category, locale, timezone = _ZONES[zone.rstrip("*")]
                ordinal += 1
                cid = int(members[0].id) if members else int(rid)
                members.append(
                    Realm(
                        int(rid), name, slug or _default_slug(name), english or name, region,
                        flavor, cid, category, locale, timezone, zone.endswith("*"), ordinal,
                    )
                )  # fmt: skip
            groups.append(ConnectedRealm(members[0].id, region, flavor, tuple(members)))
        ids = [r.id for g in groups for r in g.realms]
        assert len(ids) == len(set(ids)), f"duplicate realm id in {region}/{flavor}"
        tables[(region, flavor)] = tuple(groups)
    return tables


def connected_realms(region: str, flavor: str) -> tuple[ConnectedRealm, ...]:
    return _build().get((region, flavor), ())


@cache
def realms_for(region: str, flavor: str) -> tuple[Realm, ...]:
    return tuple(r for g in connected_realms(region, flavor) for r in g.realms)


def realm_by_slug(region: str, flavor: str, slug: str) -> Realm | None:
    wanted = slug.casefold()
    return next((r for r in realms_for(region, flavor) if r.slug.casefold() == wanted), None)


def realm_by_id(region: str, flavor: str, realm_id: int) -> Realm | None:
    return next((r for r in realms_for(region, flavor) if r.id == realm_id), None)


@cache
def realm_by_ordinal(ordinal: int) -> Realm | None:
    all_realms = (r for groups in _build().values() for g in groups for r in g.realms)
    return next((r for r in all_realms if r.ordinal == ordinal), None)
