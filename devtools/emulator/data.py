"""Deterministic world generation: accounts, their characters, guild pools, extra guild members.

Everything here is a pure function of its arguments (no seed, no clock), so account 1 always
has the same characters. Ids:
- account n (n >= 1): account id 100000 + n, characters n * 1000 + index (index < 500);
- guild pool: 4 guilds per realm, id realm.ordinal * 10 + g + 1;
- guild members that are on no account: guild_id * 1000 + 500 + k.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache

from .gamedata import CLASSES, MAX_LEVEL, RACES, race_classes, races_for
from .names import character_name, encode_id
from .realms import Realm, realm_by_ordinal, realms_for

WORLD_EPOCH_MS = 1_759_276_800_000  # 2025-10-01T00:00:00Z: "now" of the generated world
DAY_MS = 86_400_000
GUILDS_PER_REALM = 4
EXTRA_MEMBER_BASE = 500
GUILD_NAMES = (
    "Mythical Warriors", "Enigma", "Stormbound", "Nächtliche Wacht", "Étoile Noire",
    "Iron Oath", "Crimson Tide", "Vanguard", "Last Light", "Ember Court", "Silent Vigil",
    "Dawnbreakers",
)  # fmt: skip
_BATTLETAG_NAMES = (
    "Arthas", "Jaina", "Thrall", "Sylvanas", "Anduin", "Tyrande", "Malfurion", "Varian",
    "Garrosh", "Khadgar", "Alleria", "Turalyon", "Velen", "Baine", "Valeera", "Rexxar",
)  # fmt: skip


def h(*parts: object) -> int:
    """A stable 64-bit hash of the parts (Python's hash() is salted per process)."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def guild_slug(name: str) -> str:
    return name.lower().replace(" ", "-")


@dataclass(frozen=True)
class Character:
    id: int
    name: str
    region: str
    flavor: str
    realm: Realm
    level: int
    class_id: int
    race_id: int
    gender: str
    spec_id: int
    guild: str | None
    rank: int
    last_login: int  # ms since the epoch
    item_level: int
    account: int | None = None  # n of the owning account; None for roster-only characters
    wow_account: int | None = None
    inactive: bool = False
    media_fails: bool = False
    modified: float = 0.0  # seconds; set when an override replaced the character

    @property
    def faction(self) -> str:
        race = RACES.get(self.race_id)
        return race.faction if race else "NEUTRAL"

    @property
    def equipped_item_level(self) -> int:
        return max(self.item_level - self.id % 4, 0)


@dataclass(frozen=True)
class Guild:
    id: int
    name: str
    realm: Realm
    faction: str
    created: int  # ms
    extra_members: int

    @property
    def slug(self) -> str:
        return guild_slug(self.name)


@dataclass
class Account:
    n: int
    characters: list[Character] = field(default_factory=list)

    @property
    def id(self) -> int:
        return 100000 + self.n

    @property
    def battletag(self) -> str:
        return f"{_BATTLETAG_NAMES[self.n % len(_BATTLETAG_NAMES)]}#{1000 + self.n % 9000}"

    @property
    def wow_account_ids(self) -> tuple[int, ...]:
        return wow_account_ids(self.n)


def wow_account_ids(n: int) -> tuple[int, ...]:
    base = 20_000_000 + n * 10
    return (base, base + 1) if n % 3 == 0 else (base,)


@cache
def guild_pool(realm: Realm) -> tuple[Guild, ...]:
    guilds = []
    for g in range(GUILDS_PER_REALM):
        gid = realm.ordinal * 10 + g + 1
        guilds.append(
            Guild(
                id=gid,
                name=GUILD_NAMES[(realm.ordinal * 5 + g) % len(GUILD_NAMES)],
                realm=realm,
                faction="ALLIANCE" if (realm.ordinal + g) % 2 == 0 else "HORDE",
                created=WORLD_EPOCH_MS - (h("created", gid) % 4000 + 30) * DAY_MS,
                extra_members=3 + h("extra", gid) % 4,
            )
        )
    return tuple(guilds)


def pool_guild_by_id(guild_id: int) -> Guild | None:
    ordinal, g = divmod(guild_id - 1, 10)
    realm = realm_by_ordinal(ordinal) if g < GUILDS_PER_REALM else None
    return guild_pool(realm)[g] if realm else None


def _pick_race(flavor: str, faction: str, seed: int) -> int:
    races = races_for(flavor).values()
    ids = [r.id for r in races if r.faction == faction and faction != "NEUTRAL"]
    ids = ids or [r.id for r in races if r.faction != "NEUTRAL"]
    return ids[seed % len(ids)]


def make_character(
    char_id: int,
    name: str,
    realm: Realm,
    guild: Guild | None,
    faction: str,
    account: int | None = None,
    wow_account: int | None = None,
) -> Character:
    """A character whose game fields (race, class, level, ...) derive from its id."""
    flavor = realm.flavor
    race = _pick_race(flavor, faction, h("race", char_id))
    classes = race_classes(flavor, race)
    class_id = classes[h("class", char_id) % len(classes)]
    specs = CLASSES[class_id].specs
    top = MAX_LEVEL[flavor]
    level = top if h("level", char_id) % 5 < 3 else 10 + h("lvl", char_id) % (top - 10)
    base_ilvl = 580 if not flavor else 40 + top
    ilvl = base_ilvl + h("ilvl", char_id) % 60 if level == top else level + 5
    return Character(
        id=char_id, name=name, region=realm.region, flavor=flavor, realm=realm,
        level=level, class_id=class_id, race_id=race,
        gender="FEMALE" if h("gender", char_id) % 2 else "MALE",
        spec_id=specs[h("spec", char_id) % len(specs)][0],
        guild=guild.name if guild else None,
        rank=h("rank", char_id) % 9 if guild else 0,
        last_login=WORLD_EPOCH_MS - h("login", char_id) % (30 * DAY_MS),
        item_level=ilvl, account=account, wow_account=wow_account,
    )  # fmt: skip


def _slots(n: int) -> list[tuple[str, str, int]]:
    """(region, flavor, index) of every character account n has."""
    slots = [("us", "", i) for i in range(2 + n % 7)]
    if n % 5 == 0:
        slots += [("eu", "", 20), ("eu", "", 21)][: 1 + n % 2]
    if n % 4 == 0:
        slots += [("us", "classic1x", 40), ("us", "classicann", 60), ("us", "classicann", 61)]
    if n % 8 == 0:
        slots.append(("us", "classic", 80))
    return slots


def _realm_for(n: int, region: str, flavor: str, index: int) -> Realm:
    realms = realms_for(region, flavor)
    if region == "eu" and index == 20 and n % 10 == 0:
        realms = tuple(r for r in realms if not r.slug.isascii())
    # neighbouring accounts (same n // 4) put their character `index` on the same realm
    return realms[h("realm", n // 4, region, flavor, index) % len(realms)]


def generate_account(n: int) -> Account:
    chars: list[Character] = []
    wow_ids = wow_account_ids(n)
    for position, (region, flavor, index) in enumerate(_slots(n)):
        char_id = n * 1000 + index
        realm = _realm_for(n, region, flavor, index)
        guild = None
        if h("guildless", n, index) % 5:
            pool = guild_pool(realm)
            guild = pool[h("guild", n // 4, region, flavor, index) % len(pool)]
        faction = guild.faction if guild else ("HORDE" if h("faction", char_id) % 2 else "ALLIANCE")
        name = character_name(n, index, char_id)
        chars.append(
            make_character(
                char_id, name, realm, guild, faction,
                account=n, wow_account=wow_ids[position % len(wow_ids)],
            )
        )  # fmt: skip
    return Account(n=n, characters=chars)


def extra_member(guild: Guild, k: int) -> Character:
    """Member k of a guild's members that are on no account."""
    char_id = guild.id * 1000 + EXTRA_MEMBER_BASE + k
    return make_character(char_id, encode_id(char_id), guild.realm, guild, guild.faction)
