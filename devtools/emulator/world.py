"""The mutable world: generated accounts (cached), admin overrides, guild membership.

Accounts are generated on first use and then "known": their guild members show up in
rosters. Overrides replace an account's whole character list. All methods are thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from .data import (
    EXTRA_MEMBER_BASE,
    Account,
    Character,
    Guild,
    extra_member,
    generate_account,
    guild_pool,
    guild_slug,
    h,
    pool_guild_by_id,
)
from .names import decode_name, name_key
from .population import Population, Rates
from .realms import Realm

GuildKey = tuple[str, str, str, str]  # region, flavor, realm slug, guild slug
NameKey = tuple[str, str, str, str]  # region, flavor, realm slug, casefolded name
_CUSTOM_GUILD_BASE = 5_000_000


def _guild_key(realm: Realm, slug: str) -> GuildKey:
    return (realm.region, realm.flavor, realm.slug, name_key(slug))


class World:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self.rates = Rates()
        self.reset(floor=0.0)

    def reset(self, floor: float | None = None) -> None:
        """Forget overrides and known accounts; Last-Modified never goes below `floor`."""
        with self._lock:
            self.floor = self._clock() if floor is None else floor
            self._generated: dict[int, Account] = {}
            self._overrides: dict[int, list[Character]] = {}
            self._override_times: dict[int, float] = {}
            self._by_name: dict[NameKey, Character] = {}
            self._members: dict[GuildKey, dict[int, Character]] = {}
            self._guild_times: dict[GuildKey, float] = {}
            self._custom: dict[GuildKey, Guild] = {}
            self._custom_ids: dict[int, Guild] = {}
            self.population: Population | None = None

    # population -----------------------------------------------------------------------
    def set_rates(self, rates: Rates) -> None:
        """How fast the population changes (from the emulator's config)."""
        with self._lock:
            self.rates = rates
            if self.population is not None:
                self.population.set_rates(rates, self._clock())

    def create_population(
        self, guilds: int, members: int, active_share: float, seed: int
    ) -> Population:
        """A new population (replacing any earlier one); its guilds are custom guilds, so an
        account's character put in one (PUT /accounts) shows in its roster."""
        with self._lock:
            if self.population is not None:
                for guild in self.population.guilds.values():
                    self._custom.pop(_guild_key(guild.realm, guild.slug), None)
                    self._custom_ids.pop(guild.id, None)
            now = self._clock()
            self.population = Population(guilds, members, active_share, seed, now, self.rates)
            for guild in self.population.guilds.values():
                self._custom[_guild_key(guild.realm, guild.slug)] = guild
                self._custom_ids[guild.id] = guild
            return self.population

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def current_population(self) -> Population | None:
        """The population with its events applied up to now (None when there is none)."""
        with self._lock:
            return self._advance()

    def _advance(self) -> Population | None:
        population = self.population
        if population is not None:
            population.advance(self._clock())
        return population

    # accounts -------------------------------------------------------------------------
    def characters(self, n: int) -> list[Character]:
        with self._lock:
            if n in self._overrides:
                return list(self._overrides[n])
            return list(self._generated_account(n).characters)

    def generated(self, n: int) -> list[Character]:
        with self._lock:
            return list(self._generated_account(n).characters)

    def account_modified(self, n: int) -> float:
        with self._lock:
            return max(self._override_times.get(n, 0.0), self.floor)

    def is_overridden(self, n: int) -> bool:
        with self._lock:
            return n in self._overrides

    def set_characters(self, n: int, chars: list[Character] | None) -> list[Character]:
        """Replace account n's characters (None: back to the generated ones)."""
        with self._lock:
            now = self._clock()
            before = {c.id: c for c in self.characters(n)}
            self._unregister(self.characters(n))
            for key in [k for k, c in self._by_name.items() if c.account == n]:
                del self._by_name[key]
            if chars is None:
                self._overrides.pop(n, None)
                chars = list(self._generated_account(n).characters)
            else:
                # Only a character that changed gets a new Last-Modified (as on Battle.net,
                # where an untouched character keeps answering 304).
                chars = [self._touched(before.get(c.id), c, now) for c in chars]
                self._overrides[n] = chars
                for c in chars:
                    key = (c.region, c.flavor, name_key(c.realm.slug), name_key(c.name))
                    self._by_name[key] = c
            self._override_times[n] = now
            self._register(chars)
            return list(chars)

    @staticmethod
    def _touched(before: Character | None, char: Character, now: float) -> Character:
        if before is not None and replace(before, modified=0.0) == replace(char, modified=0.0):
            return replace(char, modified=before.modified)
        return replace(char, modified=now)

    def _generated_account(self, n: int) -> Account:
        account = self._generated.get(n)
        if account is None:
            account = self._generated[n] = generate_account(n)
            if n not in self._overrides:
                self._register(account.characters)
        return account

    # characters -----------------------------------------------------------------------
    def find_character(self, region: str, flavor: str, slug: str, name: str) -> Character | None:
        key = (region, flavor, name_key(slug), name_key(name))
        with self._lock:
            found = self._by_name.get(key)
            if found is not None:
                return found
            char_id = decode_name(name)
            if char_id is None:
                return None
            population = self._advance()
            if population is not None and char_id in population.chars:
                found = population.chars[char_id]
                place = (found.region, found.flavor, name_key(found.realm.slug))
                return found if place == key[:3] else None
            owner, index = divmod(char_id, 1000)
            candidate: Character | None = None
            if index < EXTRA_MEMBER_BASE:
                if owner >= 1 and owner not in self._overrides:
                    chars = self._generated_account(owner).characters
                    candidate = next((c for c in chars if c.id == char_id), None)
            else:
                guild = self.guild_by_id(owner)
                if guild is not None and index - EXTRA_MEMBER_BASE < guild.extra_members:
                    candidate = extra_member(guild, index - EXTRA_MEMBER_BASE)
        if candidate is None:
            return None
        place = (candidate.region, candidate.flavor, name_key(candidate.realm.slug))
        same_name = name_key(candidate.name) == key[3]
        return candidate if place == key[:3] and same_name else None

    def character_modified(self, char: Character) -> float:
        return max(char.modified, char.last_login / 1000, self.floor)

    # guilds ---------------------------------------------------------------------------
    def guild_by_id(self, guild_id: int) -> Guild | None:
        with self._lock:
            return self._custom_ids.get(guild_id) or pool_guild_by_id(guild_id)

    def find_guild(self, realm: Realm, slug: str) -> Guild | None:
        wanted = name_key(slug)
        with self._lock:
            for guild in guild_pool(realm):
                if name_key(guild.slug) == wanted:
                    return guild
            return self._custom.get(_guild_key(realm, slug))

    def guild_of(self, char: Character) -> Guild | None:
        return self.find_guild(char.realm, guild_slug(char.guild)) if char.guild else None

    def roster(self, guild: Guild) -> list[Character]:
        with self._lock:
            known = self._members.get(_guild_key(guild.realm, guild.slug), {})
            members = sorted(known.values(), key=lambda c: c.id)
            population = self._advance()
            if population is not None:
                members += population.roster(guild.id)
        extras = [extra_member(guild, k) for k in range(guild.extra_members)]
        return members + extras

    def guild_modified(self, guild: Guild) -> float:
        with self._lock:
            changed = self._guild_times.get(_guild_key(guild.realm, guild.slug), 0.0)
            population = self._advance()
            if population is not None:
                changed = max(changed, population.guild_times.get(guild.id, 0.0))
        return max(guild.created / 1000, changed, self.floor)

    def _custom_guild(self, realm: Realm, name: str, faction: str) -> Guild:
        key = _guild_key(realm, guild_slug(name))
        guild = self._custom.get(key)
        if guild is None:
            guild_id = _CUSTOM_GUILD_BASE + h("custom-guild", *key) % 1_000_000
            while guild_id in self._custom_ids:
                guild_id += 1
            created = int(self._clock() * 1000)
            guild = Guild(guild_id, name, realm, faction, created, 3)
            self._custom[key] = self._custom_ids[guild_id] = guild
        return guild

    def _register(self, chars: list[Character]) -> None:
        now = self._clock()
        for c in chars:
            if c.guild is None:
                continue
            guild = self.find_guild(c.realm, guild_slug(c.guild))
            if guild is None:
                guild = self._custom_guild(c.realm, c.guild, c.faction)
            key = _guild_key(guild.realm, guild.slug)
            self._members.setdefault(key, {})[c.id] = c
            self._guild_times[key] = now

    def _unregister(self, chars: list[Character]) -> None:
        now = self._clock()
        for c in chars:
            if c.guild is None:
                continue
            key = _guild_key(c.realm, guild_slug(c.guild))
            if self._members.get(key, {}).pop(c.id, None) is not None:
                self._guild_times[key] = now
