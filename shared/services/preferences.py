"""A user's auto-sync preferences: `{autoSync: "off"|"on_login"|"daily", gameVersions}`.

- `off`: no sync at login, no scheduled account sync, and the stale-character refresh skips the
  user's characters except those a guild roster keeps (see the migration
  `20261201006100_sync_preferences.sql`);
- `on_login` (default): the login's first sync, for the FIRST listed game version;
- `daily`: that, plus a scheduled account sync per listed game version about once a day,
  while the Battle.net login (about 24 h) is valid.
The answer adds `nextSyncAt` (the next scheduled account sync) or null with a `reason`:
`auto_sync_off`, `on_login`, `login_required` or `login_expires_first`.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from shared.blizzard.regions import GameVersion
from shared.db.users import Preferences, UserStore
from shared.errors import NotFound

AutoSync = Literal["off", "on_login", "daily"]
MAX_GAME_VERSIONS = len(GameVersion)


class SyncPreferencesUpdate(BaseModel):
    """A PUT body: either field may be left out (it keeps its value)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    auto_sync: AutoSync | None = Field(default=None, validation_alias=AliasChoices("autoSync"))
    game_versions: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_GAME_VERSIONS,
        validation_alias=AliasChoices("gameVersions"),
    )


class SyncPreferences:
    def __init__(self, users: UserStore) -> None:
        self.users = users

    def get(self, user_id: uuid.UUID) -> dict[str, Any]:
        return self._read(user_id).as_json()

    def update(self, user_id: uuid.UUID, change: SyncPreferencesUpdate) -> dict[str, Any]:
        # each version checked against the game-version table (400 listing the valid ones)
        versions = [GameVersion.parse(v).value for v in change.game_versions or []]
        current = self._read(user_id)
        found = self.users.set_sync_preferences(
            user_id,
            change.auto_sync or current.auto_sync,
            list(dict.fromkeys(versions)) or current.game_versions,
        )
        if found is None:
            raise NotFound("unknown user")
        return found.as_json()

    def _read(self, user_id: uuid.UUID) -> Preferences:
        found = self.users.get_sync_preferences(user_id)
        if found is None:
            raise NotFound("unknown user")
        return found
