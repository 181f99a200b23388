"""Mutable emulator state: configuration, tokens, authorization codes, stats, rate window.

One `State` per app. Every method takes the state lock briefly; nothing sleeps under it.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .population import Rates
from .world import World

DEFAULT_CLIENT_ID = "local-client-id"
DEFAULT_CLIENT_SECRET = "local-client-secret"
#: settable through POST /_emulator/config: name -> (type, minimum, maximum)
TUNABLES: dict[str, tuple[type, float, float]] = {
    "latency_ms": (int, 0, 600_000),
    "fault_rate": (float, 0.0, 1.0),
    "timeout_rate": (float, 0.0, 1.0),
    "timeout_seconds": (float, 0.0, 3600.0),
    "rate_limit": (int, 0, 1_000_000),
    "token_ttl": (int, 1, 10 * 365 * 86400),
    "seed": (int, -(2**63), 2**63),
    # the population's dynamics (POST /_emulator/population): real seconds a simulated day
    # lasts, changes per active character per simulated day, share of a guild's members
    # replaced per simulated day
    "day_seconds": (float, 1.0, 10 * 365 * 86400.0),
    "change_rate": (float, 0.0, 1000.0),
    "roster_churn": (float, 0.0, 100.0),
}


@dataclass(frozen=True)
class EmulatorConfig:
    """Emulator settings. rate_limit 0 turns the per-second limit off."""

    latency_ms: int = 0
    fault_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    rate_limit: int = 100
    token_ttl: int = 86399
    seed: int = 0
    day_seconds: float = 86400.0
    change_rate: float = 0.0
    roster_churn: float = 0.0
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmulatorConfig:
        """Read EMULATOR_<SETTING> variables and BLIZZARD_CLIENT_ID / _SECRET."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, (kind, _low, _high) in TUNABLES.items():
            raw = env.get(f"EMULATOR_{name.upper()}")
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError as exc:
                    noun = "an integer" if kind is int else "a number"
                    raise ValueError(f"EMULATOR_{name.upper()} must be {noun}") from exc
        values["client_id"] = env.get("BLIZZARD_CLIENT_ID") or DEFAULT_CLIENT_ID
        values["client_secret"] = env.get("BLIZZARD_CLIENT_SECRET") or DEFAULT_CLIENT_SECRET
        return cls(**values).updated({})

    def updated(self, changes: Mapping[str, Any]) -> EmulatorConfig:
        """A copy with `changes` applied; ValueError names the first bad setting."""
        unknown = sorted(set(changes) - set(TUNABLES))
        if unknown:
            raise ValueError(f"unknown settings {unknown}; known: {sorted(TUNABLES)}")
        values = {**self.public(), **changes}
        for name, (kind, low, high) in TUNABLES.items():
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number")
            if kind is int and value != int(value):
                raise ValueError(f"{name} must be an integer")
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}")
            values[name] = kind(value)
        return replace(self, **values)

    def public(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in TUNABLES}

    def rates(self) -> Rates:
        return Rates(self.change_rate, self.roster_churn, self.day_seconds)


@dataclass
class Token:
    value: str
    kind: str  # "app" or "user"
    expires_at: float
    account: int | None = None
    scope: str = ""
    revoked: bool = False


@dataclass
class AuthCode:
    code: str
    redirect_uri: str
    scope: str
    account: int
    challenge: str | None
    expires_at: float
    used: bool = False


@dataclass
class Stats:
    requests: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    max_per_second: int = 0
    not_modified: int = 0
    not_modified_by_endpoint: Counter[str] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)  # API requests by epoch second

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["by_status"] = dict(sorted(self.by_status.items()))
        data["by_endpoint"] = dict(sorted(self.by_endpoint.items()))
        data["not_modified_by_endpoint"] = dict(sorted(self.not_modified_by_endpoint.items()))
        data["per_second"] = {str(k): v for k, v in sorted(self.per_second.items())}
        return data


class State:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.initial = config or EmulatorConfig()
        self.clock = clock
        self.sleep = sleep
        self.world = World(clock)
        self._lock = threading.Lock()
        self._reset(floor=0.0)

    def _reset(self, floor: float | None) -> None:
        with self._lock:
            self.config = self.initial
            self._rng = random.Random(self.initial.seed)
            self._tokens: dict[str, Token] = {}
            self._codes: dict[str, AuthCode] = {}
            self.stats = Stats()
            self._second = -1
            self._second_count = 0
        self.world.reset(floor)
        self.world.set_rates(self.initial.rates())

    def reset(self) -> None:
        """Back to the start: config, tokens, codes, stats, overrides, known accounts."""
        self._reset(floor=None)

    def configure(self, changes: Mapping[str, Any]) -> EmulatorConfig:
        with self._lock:
            self.config = self.config.updated(changes)
            if "seed" in changes:
                self._rng = random.Random(self.config.seed)
            config = self.config
        self.world.set_rates(config.rates())
        return config

    # load behaviour -------------------------------------------------------------------
    def admit(self, endpoint: str, limited: bool) -> bool:
        """Count a request; True when it is past this second's rate limit."""
        with self._lock:
            self.stats.requests += 1
            self.stats.by_endpoint[endpoint] += 1
            if not limited:
                return False
            second = int(self.clock())
            if endpoint != "token":  # OAuth-host calls are not API requests
                self.stats.per_second[second] += 1
            if second != self._second:
                self._second, self._second_count = second, 0
            self._second_count += 1
            self.stats.max_per_second = max(self.stats.max_per_second, self._second_count)
            over = 0 < self.config.rate_limit < self._second_count
            self.stats.rate_limited += over
            return over

    def roll(self) -> str:
        """'timeout', 'fault' or 'ok' for one request, from the seeded generator."""
        with self._lock:
            timeout, fault = self._rng.random(), self._rng.random()
            if timeout < self.config.timeout_rate:
                return "timeout"
            return "fault" if fault < self.config.fault_rate else "ok"

    def record_status(self, status: int, endpoint: str = "") -> None:
        with self._lock:
            self.stats.by_status[str(status)] += 1
            self.stats.not_modified += status == 304
            if status == 304:
                self.stats.not_modified_by_endpoint[endpoint] += 1

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = Stats()

    def stats_json(self) -> dict[str, Any]:
        with self._lock:
            return self.stats.as_dict()

    # tokens and codes -----------------------------------------------------------------
    def issue_token(self, kind: str, account: int | None = None, scope: str = "") -> Token:
        value = "EMU" + secrets.token_urlsafe(24)
        with self._lock:
            expires = self.clock() + self.config.token_ttl
            token = self._tokens[value] = Token(value, kind, expires, account, scope)
            return token

    def token(self, value: str) -> Token | None:
        """The live token with that value (None when unknown, expired or revoked)."""
        with self._lock:
            token = self._tokens.get(value)
        if token is None or token.revoked or token.expires_at <= self.clock():
            return None
        return token

    def tokens_of(self, account: int) -> list[str]:
        """The user tokens issued to an account (tests look for them where they must not be)."""
        with self._lock:
            return [t.value for t in self._tokens.values() if t.account == account]

    def revoke(self, account: int) -> int:
        """Revoke every user token and pending code of an account; returns tokens revoked."""
        with self._lock:
            count = 0
            for token in self._tokens.values():
                if token.account == account and not token.revoked:
                    token.revoked, count = True, count + 1
            for code in self._codes.values():
                code.used = code.used or code.account == account
            return count

    def new_code(self, redirect_uri: str, scope: str, account: int, challenge: str | None) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            expires = self.clock() + 300
            self._codes[code] = AuthCode(code, redirect_uri, scope, account, challenge, expires)
        return code

    def code(self, value: str) -> AuthCode | None:
        """A code that is unused and unexpired (expired ones are dropped)."""
        with self._lock:
            grant = self._codes.get(value)
            if grant is not None and grant.expires_at <= self.clock():
                del self._codes[value]
                return None
            return grant if grant is not None and not grant.used else None

    def mark_used(self, grant: AuthCode) -> bool:
        """Use a code once; False when another request used it first."""
        with self._lock:
            if grant.used:
                return False
            grant.used = True
            return True
