"""Users: login states (OAuth state with its PKCE verifier, bound to a browser), the login's
upsert with the encrypted Battle.net token, the token read back, lookups and sync preferences.

Typed where Python reads fields (`LoginState`, `LoginUser`, `UserToken`, `Preferences`); the
preferences' `nextSyncAt`/`reason` are computed in SQL (`next_account_sync`) and only go out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.db.base import SqlStore, UserId, as_id, as_time
from shared.db.protocol import JSON


@dataclass(frozen=True)
class LoginState:
    """A login's state, consumed: where it started and what finishes it."""

    region: str
    code_verifier: str
    redirect_to: str | None


@dataclass(frozen=True)
class BrowserMismatch:
    """The state exists but another browser brings it (it stays unused)."""


@dataclass(frozen=True)
class LoginUser:
    id: uuid.UUID
    battlenet_id: int
    battletag: str | None
    region: str

    def as_json(self) -> JSON:
        return {
            "id": str(self.id),
            "battlenetId": self.battlenet_id,
            "battletag": self.battletag,
            "region": self.region,
        }


@dataclass(frozen=True)
class UserToken:
    """A user's login and their Battle.net token as stored (sealed)."""

    user_id: uuid.UUID
    battlenet_id: int
    region: str
    login_state: str  # 'active' or 'relogin_required'
    ciphertext: str | None
    key_id: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class Preferences:
    auto_sync: str
    game_versions: list[str]
    next_sync_at: str | None  # ISO time of the next scheduled account sync
    reason: str | None  # why there is none: auto_sync_off, on_login, login_required, ...

    def as_json(self) -> JSON:
        return {
            "autoSync": self.auto_sync,
            "gameVersions": list(self.game_versions),
            "nextSyncAt": self.next_sync_at,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, row: JSON) -> Preferences:
        return cls(
            row["autoSync"], list(row["gameVersions"] or []), row.get("nextSyncAt"), row["reason"]
        )


class UserStore(Protocol):
    def save_oauth_state(
        self,
        state: str,
        code_verifier: str,
        redirect_to: str | None,
        region: str,
        browser_hash: str,
        expires_at: datetime,
    ) -> None: ...
    def consume_login_state(
        self, state: str, browser_hash: str | None
    ) -> LoginState | BrowserMismatch | None: ...
    def upsert_login(
        self,
        *,
        battlenet_id: int,
        battletag: str | None,
        region: str,
        ciphertext: str,
        key_id: str,
        expires_at: str,
        scopes: list[str],
        sync_queue: str | None,
    ) -> LoginUser: ...
    def find_user_id(
        self, user_id: UserId | None = None, battlenet_id: int | None = None
    ) -> uuid.UUID | None: ...
    def get_user_token(self, user_id: UserId) -> UserToken | None: ...
    def mark_relogin_required(self, user_id: UserId) -> None: ...
    def get_sync_preferences(self, user_id: UserId) -> Preferences | None: ...
    def set_sync_preferences(
        self, user_id: UserId, auto_sync: str, game_versions: list[str]
    ) -> Preferences | None: ...


class SqlUserStore(SqlStore):
    def save_oauth_state(
        self,
        state: str,
        code_verifier: str,
        redirect_to: str | None,
        region: str,
        browser_hash: str,
        expires_at: datetime,
    ) -> None:
        self._call(
            "save_oauth_state",
            p_state=state,
            p_code_verifier=code_verifier,
            p_redirect_to=redirect_to,
            p_region=region,
            p_browser_hash=browser_hash,
            p_expires_at=expires_at.isoformat(),
        )

    def consume_login_state(
        self, state: str, browser_hash: str | None
    ) -> LoginState | BrowserMismatch | None:
        """The state once, for its browser: None when unknown, expired or used."""
        row: JSON | None = self._call(
            "consume_login_state", p_state=state, p_browser_hash=browser_hash
        )
        if row is None:
            return None
        if row.get("browserMismatch"):
            return BrowserMismatch()
        return LoginState(row["region"], row["codeVerifier"], row.get("redirectTo"))

    def upsert_login(
        self,
        *,
        battlenet_id: int,
        battletag: str | None,
        region: str,
        ciphertext: str,
        key_id: str,
        expires_at: str,
        scopes: list[str],
        sync_queue: str | None,
    ) -> LoginUser:
        """The user by Battle.net account id, the token stored, the login's first sync
        queued (unless auto-sync is off), in one transaction."""
        row: JSON = self._call(
            "upsert_login",
            p_battlenet_id=battlenet_id,
            p_battletag=battletag,
            p_region=region,
            p_ciphertext=ciphertext,
            p_key_id=key_id,
            p_expires_at=expires_at,
            p_scopes=scopes,
            p_sync_queue=sync_queue,
        )
        return LoginUser(
            uuid.UUID(str(row["id"])), int(row["battlenetId"]), row["battletag"], row["region"]
        )

    def find_user_id(
        self, user_id: UserId | None = None, battlenet_id: int | None = None
    ) -> uuid.UUID | None:
        """The id of the user named by id or Battle.net account id, if there is one."""
        found = self._call("find_user_id", p_user_id=as_id(user_id), p_battlenet_id=battlenet_id)
        return None if found is None else uuid.UUID(str(found))

    def get_user_token(self, user_id: UserId) -> UserToken | None:
        row: JSON | None = self._call("get_user_token", p_user_id=as_id(user_id))
        return None if row is None else _token(row)

    def mark_relogin_required(self, user_id: UserId) -> None:
        self._call("mark_relogin_required", p_user_id=as_id(user_id))

    def get_sync_preferences(self, user_id: UserId) -> Preferences | None:
        """None for an unknown user."""
        row: JSON | None = self._call("get_sync_preferences", p_user_id=as_id(user_id))
        return None if row is None else Preferences.from_json(row)

    def set_sync_preferences(
        self, user_id: UserId, auto_sync: str, game_versions: list[str]
    ) -> Preferences | None:
        row: JSON | None = self._call(
            "set_sync_preferences",
            p_user_id=as_id(user_id),
            p_auto_sync=auto_sync,
            p_game_versions=game_versions,
        )
        return None if row is None else Preferences.from_json(row)


def _token(row: dict[str, Any]) -> UserToken:
    return UserToken(
        user_id=uuid.UUID(str(row["userId"])),
        battlenet_id=int(row["battlenetId"]),
        region=row["region"],
        login_state=row["loginState"],
        ciphertext=row.get("ciphertext"),
        key_id=row.get("keyId"),
        expires_at=as_time(row.get("expiresAt")),
    )
