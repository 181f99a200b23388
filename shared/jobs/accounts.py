"""`profile_sync`: an account sync with the user's token. After a login it is the same work as
fetch-profile (a session the user watches), skipped when the user started a sync themselves
since the login; a scheduled one refreshes the account's characters in bulk."""

from __future__ import annotations

import uuid
from typing import Literal

from shared.blizzard.regions import GameVersion
from shared.db.queue import Delivery
from shared.db.sessions import SessionStore
from shared.errors import Conflict, NotFound, TooManyRequests
from shared.jobs.base import Job, Outcome
from shared.jobs.messages import Message
from shared.services.character_sync import CharacterSyncService


class ProfileSync(Message):
    """An account sync: a login's first sync (a session) or a scheduled one (bulk refreshes)."""

    type: Literal["profile_sync"] = "profile_sync"
    user_id: uuid.UUID
    game_version: str = "retail"
    reason: Literal["login", "scheduled"]


class ProfileSyncJob(Job[ProfileSync]):
    message = ProfileSync
    max_attempts = 3

    def __init__(self, sync: CharacterSyncService, sessions: SessionStore) -> None:
        self.sync = sync
        self.sessions = sessions

    def handle(self, message: ProfileSync, delivery: Delivery) -> Outcome:
        version = GameVersion.parse(message.game_version)
        try:
            if message.reason == "login":
                if self.sessions.account_sync_started_since(message.user_id, delivery.enqueued_at):
                    return Outcome.DUPLICATE  # the user started one: one login, one session
                self.sync.start(message.user_id, version)
            else:
                self.sync.refresh(message.user_id, version)
        except (Conflict, TooManyRequests):
            # a sync is already running, the user must log in again, or the user's sync
            # quota is spent (logins count against it too)
            return Outcome.DONE
        except NotFound:
            return Outcome.FAILED
        return Outcome.DONE
