"""A population of guilds whose members play, gear up and come and go: what a "fresh per day"
benchmark needs from Battle.net.

`POST /_emulator/population` creates guilds (custom guilds on a few US retail realms) with
roster-only members: an `active_share` of them logged in within the last day of real time at
max level (the 6-hour refresh tier; snapshots trigger), the rest dormant (last login 90 to
390 days ago). Then, on the emulator's clock:

- each active member changes at `change_rate` per simulated day (`day_seconds` real seconds):
  Poisson events whose times come from a generator seeded by (seed, character, event number),
  so a run sees the same changes whenever it asks. A change moves the character's
  Last-Modified (profile, media, equipment, specializations) and last login to the event's
  time, adds an item level or two (a level below max), and with `GUILD_MOVE_SHARE` moves it to
  another guild of its realm (both rosters' Last-Modified move);
- each guild replaces members at `roster_churn` x members per simulated day: a member leaves
  (its profile shows no guild) and a new one joins (active with `active_share`).

Events are applied lazily, in time order, whenever a population character or guild is looked
up, so the state at a time never depends on which requests came before. Dormant members
never change.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, replace
from typing import Any

from .data import DAY_MS, Character, Guild, h, make_character
from .gamedata import MAX_LEVEL
from .names import encode_id
from .realms import Realm, realms_for

FIRST_ID = 1_100_000_000  # 12-letter names, clear of accounts' and guild extras' ids
FIRST_GUILD_ID = 7_000_000
REALMS = 5  # guilds go round the first realms of US retail
GUILD_MOVE_SHARE = 0.05  # of changes
ACTIVE_LOGIN_S = 86_400  # active members logged in within this many real seconds
DORMANT_DAYS = (90, 390)
ACTIVE_ITEM_LEVEL = 600


@dataclass(frozen=True)
class Rates:
    change_rate: float = 0.0  # per active character per simulated day
    roster_churn: float = 0.0  # share of a guild's members per simulated day
    day_seconds: float = 86_400.0

    def per_second(self, per_day: float) -> float:
        return per_day / self.day_seconds


class Population:
    """Characters and guilds of one population and their pending events (a heap)."""

    def __init__(
        self,
        guilds: int,
        members: int,
        active_share: float,
        seed: int,
        now: float,
        rates: Rates,
    ) -> None:
        self.seed, self.active_share, self.members_per_guild = seed, active_share, members
        self.rates = rates
        self.created = now
        self.chars: dict[int, Character] = {}
        self.guilds: dict[int, Guild] = {}
        self.members: dict[int, set[int]] = {}  # guild id -> character ids
        self.guild_times: dict[int, float] = {}
        self.changes: dict[int, int] = {}  # events applied per character (or guild)
        self.active: set[int] = set()  # members that play (and change)
        self._next_id = FIRST_ID
        self._heap: list[tuple[float, int, str, int]] = []  # (time, tiebreak, kind, id)
        self._tiebreak = 0
        realms = realms_for("us", "")[:REALMS]
        rng = random.Random(h("population", seed))
        for g in range(guilds):
            realm = realms[g % len(realms)]
            gid = FIRST_GUILD_ID + g
            faction = "ALLIANCE" if g % 2 == 0 else "HORDE"
            guild = Guild(gid, f"Fresh {g + 1:04d}", realm, faction, int(now * 1000) - DAY_MS, 0)
            self.guilds[gid], self.members[gid], self.guild_times[gid] = guild, set(), now
            for _ in range(members):
                self._add_member(guild, rng.random() < active_share, rng, now)
        self._schedule_all(now)

    # building -------------------------------------------------------------------------
    def _add_member(self, guild: Guild, active: bool, rng: random.Random, now: float) -> None:
        char_id = self._next_id
        self._next_id += 1
        base = make_character(char_id, encode_id(char_id), guild.realm, guild, guild.faction)
        if active:
            login = now - rng.uniform(0, ACTIVE_LOGIN_S)
            level, ilvl = MAX_LEVEL[""], ACTIVE_ITEM_LEVEL + rng.randrange(40)
        else:
            login = now - rng.uniform(*DORMANT_DAYS) * 86_400
            level, ilvl = base.level, base.item_level
        self.chars[char_id] = replace(
            base, level=level, item_level=ilvl, last_login=int(login * 1000), modified=login
        )
        self.members[guild.id].add(char_id)
        if active:
            self.active.add(char_id)

    # events -----------------------------------------------------------------------------
    def _rng(self, kind: str, ident: int) -> random.Random:
        return random.Random(h(self.seed, kind, ident, self.changes.get(ident, 0)))

    def _push(self, at: float, kind: str, ident: int) -> None:
        self._tiebreak += 1
        heapq.heappush(self._heap, (at, self._tiebreak, kind, ident))

    def _schedule(self, kind: str, ident: int, after: float) -> None:
        if kind == "change":
            rate = self.rates.per_second(self.rates.change_rate)
        else:
            rate = self.rates.per_second(self.rates.roster_churn * self.members_per_guild)
        if rate > 0:
            self._push(after + self._rng(kind, ident).expovariate(rate), kind, ident)

    def _schedule_all(self, now: float) -> None:
        self._heap = []
        for char_id in sorted(self.active):
            self._schedule("change", char_id, now)
        for gid in sorted(self.guilds):
            self._schedule("churn", gid, now)

    def set_rates(self, rates: Rates, now: float) -> None:
        """New rates from `now` on (events are memoryless: pending ones are drawn again)."""
        self.advance(now)
        if rates != self.rates:
            self.rates = rates
            self._schedule_all(now)

    def advance(self, now: float) -> int:
        """Apply every event due by `now`, oldest first; returns how many were applied."""
        applied = 0
        while self._heap and self._heap[0][0] <= now:
            at, _, kind, ident = heapq.heappop(self._heap)
            if kind == "change":
                self._change(ident, at)
            else:
                self._churn(ident, at)
            self.changes[ident] = self.changes.get(ident, 0) + 1
            self._schedule(kind, ident, at)
            applied += 1
        return applied

    def _change(self, char_id: int, at: float) -> None:
        char = self.chars[char_id]
        rng = self._rng("change-what", char_id)
        top = MAX_LEVEL[char.flavor]
        guild = self.guild_of(char)
        if guild is not None and rng.random() < GUILD_MOVE_SHARE:
            others = [g for g in self.guilds.values() if g.realm == char.realm and g != guild]
            if others:
                target = others[rng.randrange(len(others))]
                self.members[guild.id].discard(char_id)
                self.members[target.id].add(char_id)
                self.guild_times[guild.id] = self.guild_times[target.id] = at
                char = replace(char, guild=target.name)
        self.chars[char_id] = replace(
            char,
            level=min(top, char.level + 1),
            item_level=char.item_level + 1 + rng.randrange(3),
            last_login=int(at * 1000),
            modified=at,
        )

    def _churn(self, gid: int, at: float) -> None:
        members = sorted(self.members[gid])
        if not members:
            return
        rng = self._rng("churn-who", gid)
        leaver = members[rng.randrange(len(members))]
        self.members[gid].discard(leaver)
        self.chars[leaver] = replace(self.chars[leaver], guild=None, rank=0, modified=at)
        active = rng.random() < self.active_share
        self._add_member(self.guilds[gid], active, rng, at)
        if active:
            self._schedule("change", self._next_id - 1, at)
        self.guild_times[gid] = at

    # lookups ----------------------------------------------------------------------------
    def guild_of(self, char: Character) -> Guild | None:
        return next(
            (g for g in self.guilds.values() if g.name == char.guild and g.realm == char.realm),
            None,
        )

    def guild_for(self, realm: Realm, slug_key: str) -> Guild | None:
        return next(
            (g for g in self.guilds.values() if g.realm == realm and g.slug == slug_key), None
        )

    def roster(self, gid: int) -> list[Character]:
        return [self.chars[i] for i in sorted(self.members.get(gid, ()))]

    def summary(self, floor: float = 0.0) -> dict[str, Any]:
        """What a bench needs to store the population as known characters and guilds (with
        Last-Modified as answered: never below the world's `floor`)."""
        guilds = [
            {
                "id": g.id,
                "name": g.name,
                "slug": g.slug,
                "realm": g.realm.slug,
                "realm_id": g.realm.id,
                "region": g.realm.region,
                "flavor": g.realm.flavor,
                "faction": g.faction,
                "members": len(self.members[g.id]),
                "last_modified": int(max(self.guild_times[g.id], floor)),
            }
            for g in self.guilds.values()
        ]
        chars = []
        for char in self.chars.values():
            guild = self.guild_of(char) if char.guild else None
            chars.append(
                {
                    "id": char.id,
                    "name": char.name,
                    "realm": char.realm.slug,
                    "realm_id": char.realm.id,
                    "region": char.region,
                    "flavor": char.flavor,
                    "level": char.level,
                    "item_level": char.item_level,
                    "equipped_item_level": char.equipped_item_level,
                    "guild": char.guild,
                    "guild_id": guild.id if guild else None,
                    "guild_slug": guild.slug if guild else None,
                    "last_login": char.last_login,
                    "last_modified": int(max(char.modified, char.last_login / 1000, floor)),
                    "active": char.id in self.active,
                    "changes": self.changes.get(char.id, 0),
                }
            )
        return {
            "seed": self.seed,
            "rates": {
                "change_rate": self.rates.change_rate,
                "roster_churn": self.rates.roster_churn,
                "day_seconds": self.rates.day_seconds,
            },
            "guilds": guilds,
            "characters": chars,
        }
