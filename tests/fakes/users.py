"""`UserStore` in memory: login states (single use, bound to a browser), the login's upsert
with its first sync queued, tokens, lookups and sync preferences (with `next_account_sync`'s
reasons), as the SQL functions do them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from shared.db.base import UserId
from shared.db.users import BrowserMismatch, LoginState, LoginUser, Preferences, UserToken
from tests.fakes.db import FakeDb, FakeToken, FakeUser


class FakeUserStore:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def save_oauth_state(
        self,
        state: str,
        code_verifier: str,
        redirect_to: str | None,
        region: str,
        browser_hash: str,
        expires_at: datetime,
    ) -> None:
        if state in self.db.oauth_states:
            raise ValueError("duplicate login state")  # the primary key
        self.db.oauth_states[state] = {
            "codeVerifier": code_verifier,
            "redirectTo": redirect_to,
            "region": region,
            "browserHash": browser_hash,
            "expiresAt": expires_at,
        }

    def consume_login_state(
        self, state: str, browser_hash: str | None
    ) -> LoginState | BrowserMismatch | None:
        found = self.db.oauth_states.get(state)
        if found is None or found["expiresAt"] <= self.db.now():
            return None
        if browser_hash is None or found["browserHash"] != browser_hash:
            return BrowserMismatch()
        del self.db.oauth_states[state]
        return LoginState(found["region"], found["codeVerifier"], found["redirectTo"])

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
        expires = datetime.fromisoformat(expires_at)
        user = next((u for u in self.db.users.values() if u.battlenet_id == battlenet_id), None)
        if user is None:
            user = FakeUser(str(uuid.uuid4()), battlenet_id, battletag, region)
            self.db.users[user.id] = user
        user.battletag, user.region = battletag, region
        user.login_state, user.token_expires_at = "active", expires
        self.db.tokens[user.id] = FakeToken(ciphertext, key_id, expires, list(scopes))
        if sync_queue is not None and user.auto_sync != "off":
            version = user.game_versions[0] if user.game_versions else "retail"
            self.db.send(
                sync_queue,
                {"type": "profile_sync", "userId": user.id, "gameVersion": version,
                 "reason": "login"},
            )  # fmt: skip
        return LoginUser(uuid.UUID(user.id), user.battlenet_id, user.battletag, user.region)

    def find_user_id(
        self, user_id: UserId | None = None, battlenet_id: int | None = None
    ) -> uuid.UUID | None:
        for u in self.db.users.values():
            if (user_id is not None and u.id == str(user_id)) or (
                battlenet_id is not None and u.battlenet_id == battlenet_id
            ):
                return uuid.UUID(u.id)
        return None

    def get_user_token(self, user_id: UserId) -> UserToken | None:
        user = self.db.users.get(str(user_id))
        if user is None:
            return None
        token = self.db.tokens.get(user.id)
        return UserToken(
            uuid.UUID(user.id),
            user.battlenet_id,
            user.region,
            user.login_state,
            token.ciphertext if token else None,
            token.key_id if token else None,
            token.expires_at if token else None,
        )

    def mark_relogin_required(self, user_id: UserId) -> None:
        if (user := self.db.users.get(str(user_id))) is not None:
            user.login_state = "relogin_required"

    def get_sync_preferences(self, user_id: UserId) -> Preferences | None:
        user = self.db.users.get(str(user_id))
        return None if user is None else self._preferences(user)

    def set_sync_preferences(
        self, user_id: UserId, auto_sync: str, game_versions: list[str]
    ) -> Preferences | None:
        user = self.db.users.get(str(user_id))
        if user is None:
            return None
        if auto_sync not in ("off", "on_login", "daily"):
            raise ValueError(f"auto_sync {auto_sync!r}")  # the column's check
        user.auto_sync, user.game_versions = auto_sync, list(dict.fromkeys(game_versions))
        return self._preferences(user)

    def _preferences(self, user: FakeUser) -> Preferences:
        """As `next_account_sync`: due 20 h after the last account sync, at minute 7."""
        versions = list(user.game_versions)
        if user.auto_sync == "off":
            return Preferences(user.auto_sync, versions, None, "auto_sync_off")
        if user.auto_sync == "on_login":
            return Preferences(user.auto_sync, versions, None, "on_login")
        now = self.db.now()
        expires = user.token_expires_at
        if user.login_state != "active" or expires is None or expires <= now:
            return Preferences(user.auto_sync, versions, None, "login_required")
        last = user.last_profile_sync_at
        due = max(now, last + timedelta(hours=20)) if last else now
        run = due.replace(minute=7, second=0, microsecond=0)
        if run < due:
            run += timedelta(hours=1)
        if run >= expires:
            return Preferences(user.auto_sync, versions, None, "login_expires_first")
        return Preferences(user.auto_sync, versions, run.isoformat(), None)
