"""The character sync session: read the account profile with the user's token, deduplicate
and upsert the characters, create the session and queue one enrichment per character (one SQL
function, one transaction); one character's enrichment on demand; a session's state.

A user's sync starts and enrichments are counted against their quotas (USER_SYNCS_PER_HOUR,
USER_ENRICHES_PER_HOUR in any rolling hour) in SQL, before any Battle.net request: past a
quota the call is `TooManyRequests` (429 with Retry-After) and nothing is written. A sync
counts when it goes to Battle.net (after the 409 checks), whatever it finds (a session born
completed counts too);
an enrichment counts when it queues a new one. The operator (service key) is not limited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.blizzard import endpoints as ep
from shared.blizzard.client import BlizzardClient
from shared.blizzard.models import AccountCharacter
from shared.blizzard.regions import GameVersion, Region
from shared.crypto import TokenCipher
from shared.db.characters import CharacterStore
from shared.db.limits import LimitStore
from shared.db.queue import Queue
from shared.db.sessions import SessionStore
from shared.db.users import UserStore
from shared.errors import (
    BlizzardNotFound,
    BlizzardUnauthorized,
    NotFound,
    ReloginRequired,
    SyncAlreadyRunning,
    TokenDecryptionError,
    TooManyRequests,
)
from shared.settings import Settings

QUOTA_WINDOW_S = 3600  # the quotas' rolling window: an hour


@dataclass(frozen=True)
class UserQuotas:
    """Per user, in any rolling hour (DESIGN.md section 5)."""

    syncs_per_hour: int = 20
    enriches_per_hour: int = 120

    @classmethod
    def from_settings(cls, settings: Settings) -> UserQuotas:
        return cls(settings.user_syncs_per_hour, settings.user_enriches_per_hour)


@dataclass(frozen=True)
class SyncStarted:
    session_id: str
    characters: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "message": "Character sync started",
            "sessionId": self.session_id,
            "syncedCharacters": len(self.characters),
            "characters": self.characters,
        }


def character_row(c: AccountCharacter) -> dict[str, Any]:
    return {
        "blizzard_id": c.id,
        "name": c.name,
        "realm_id": c.realm.id,
        "realm_slug": c.realm.slug,
        "realm_name": c.realm.name,
        "level": c.level,
        "class_id": c.playable_class.id if c.playable_class else None,
        "class_name": c.playable_class.name if c.playable_class else None,
        "race_id": c.playable_race.id if c.playable_race else None,
        "race_name": c.playable_race.name if c.playable_race else None,
        "faction": c.faction.type if c.faction else None,
        "gender": c.gender.type if c.gender else None,
    }


class CharacterSyncService:
    def __init__(
        self,
        client: BlizzardClient,
        users: UserStore,
        sessions: SessionStore,
        characters: CharacterStore,
        limits: LimitStore,
        cipher: TokenCipher,
        quotas: UserQuotas | None = None,
    ) -> None:
        self.client = client
        self.users = users
        self.sessions = sessions
        self.characters = characters
        self.limits = limits
        self.cipher = cipher
        self.quotas = quotas or UserQuotas()

    def user_token(self, user_id: uuid.UUID | str) -> tuple[str, Region]:
        """The user's Battle.net token, decrypted; ReloginRequired (and re-login marked) when
        it is expired or revoked; TokenDecryptionError (re-login marked) when unreadable."""
        row = self.users.get_user_token(user_id)
        if row is None:
            raise NotFound("unknown user")
        expired = row.expires_at is None or row.expires_at <= datetime.now(UTC)
        if row.login_state != "active" or row.ciphertext is None or expired:
            self.users.mark_relogin_required(user_id)
            raise ReloginRequired()
        try:
            token = self.cipher.decrypt(row.ciphertext, associated=str(row.battlenet_id))
        except TokenDecryptionError:
            self.users.mark_relogin_required(user_id)
            raise
        return token, Region.parse(row.region)

    def account_characters(
        self,
        user_id: uuid.UUID | str,
        game_version: GameVersion,
        credentials: tuple[str, Region] | None = None,
    ) -> tuple[Region, list[dict[str, Any]], bool]:
        """The characters of the user's account in one game version, read with their token
        (`credentials`, as `user_token` gives it, when already read): (region, rows, whether
        missing characters may be archived). A 404 means no account there: nothing is
        archived on its account."""
        token, region = credentials or self.user_token(user_id)
        try:
            profile = self.client.fetch(
                ep.ACCOUNT_PROFILE, region=region, game_version=game_version, user_token=token
            ).value()
        except BlizzardNotFound:
            return region, [], False
        except BlizzardUnauthorized:
            self.users.mark_relogin_required(user_id)
            raise ReloginRequired() from None
        return region, [character_row(c) for c in profile.characters], True

    def start(
        self,
        user_id: uuid.UUID | str,
        game_version: GameVersion,
        queue: Queue = Queue.CHARACTER_SYNC,
        *,
        limited: bool = True,
    ) -> SyncStarted:
        """Start an account sync. `limited` (a user's call, a login's first sync) counts it
        against the user's quota first: past it TooManyRequests, and no Battle.net call."""
        if (active := self.sessions.active_sync_session(user_id)) is not None:
            raise SyncAlreadyRunning(active)
        credentials = self.user_token(user_id)  # 404 or 409 relogin_required: no quota taken
        if limited:
            limit = self.quotas.syncs_per_hour
            taken = self.limits.quota_take(user_id, "sync", limit, QUOTA_WINDOW_S)
            if not taken.ok:
                raise TooManyRequests(
                    f"at most {limit} character syncs an hour; try again later",
                    retry_after=taken.retry_after,
                )
        region, rows, archive_missing = self.account_characters(user_id, game_version, credentials)
        result = self.sessions.start_character_sync(
            user_id=user_id,
            region=region.value,
            flavor=game_version.flavor,
            game_version=game_version.value,
            characters=rows,
            queue=queue.value,
            archive_missing=archive_missing,
        )
        if result.conflict:
            raise SyncAlreadyRunning(result.session_id)
        return SyncStarted(result.session_id, list(result.characters))

    def refresh(self, user_id: uuid.UUID | str, game_version: GameVersion) -> int:
        """A scheduled account sync: the same deduplication, then one conditional refresh per
        character in the bulk queue (no session: nobody is watching)."""
        region, rows, archive_missing = self.account_characters(user_id, game_version)
        return self.characters.refresh_account_characters(
            user_id=user_id,
            region=region.value,
            flavor=game_version.flavor,
            characters=rows,
            archive_missing=archive_missing,
            queue=Queue.CHARACTER_REFRESH.value,
        )

    def enqueue_one(
        self, user_id: uuid.UUID | str, character_id: int, *, limited: bool = True
    ) -> dict[str, Any]:
        """Queue one character's enrichment (or answer the pending one); a new one counts
        against the user's quota when `limited` (TooManyRequests past it, nothing queued)."""
        limit = self.quotas.enriches_per_hour if limited else None
        result = self.sessions.enqueue_character_enrichment(
            user_id, character_id, Queue.CHARACTER_SYNC.value, limit, QUOTA_WINDOW_S
        )
        if result is None:
            raise NotFound("no such character")
        if result.quota_exceeded:
            raise TooManyRequests(
                f"at most {limit} character enrichments an hour; try again later",
                retry_after=result.retry_after,
            )
        return {"message": "Character enrichment queued", **result.answer}

    def state(self, session_id: str, user_id: uuid.UUID | str | None) -> dict[str, Any]:
        try:
            uuid.UUID(session_id)
        except ValueError:
            raise NotFound("no such sync session") from None
        state = self.sessions.get_sync_state(session_id, user_id)
        if state is None:
            raise NotFound("no such sync session")
        return state
