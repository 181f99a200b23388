"""`enrich_character`: one character of a session, with the app token (profile and media),
recorded with its result in one SQL call that also advances the session. A 404 fails the
character at once; transient failures are retried; after the last attempt the character
counts as failed."""

from __future__ import annotations

from shared.blizzard.regions import GameVersion, Region
from shared.db.queue import Delivery
from shared.db.sessions import SessionStore
from shared.errors import BlizzardError, BlizzardNotFound
from shared.jobs.base import Job, Outcome
from shared.jobs.messages import EnrichCharacter
from shared.jobs.queues import Queue
from shared.services.enrichment import CharacterEnricher
from shared.services.snapshots import SnapshotCapture, SnapshotTarget, parse_time


class EnrichCharacterJob(Job[EnrichCharacter]):
    message = EnrichCharacter
    queue = Queue.CHARACTER_SYNC
    max_attempts = 2  # as the seed says

    def __init__(
        self,
        enricher: CharacterEnricher,
        sessions: SessionStore,
        snapshots: SnapshotCapture | None = None,
    ) -> None:
        self.enricher = enricher
        self.sessions = sessions
        self.snapshots = snapshots

    def handle(self, message: EnrichCharacter, delivery: Delivery) -> Outcome:
        session_id = str(message.session_id)
        if not self.sessions.start_character_item(session_id, message.character_id):
            return Outcome.DUPLICATE  # done already, or its session expired or failed
        try:
            data = self.enricher.fetch(
                Region.parse(message.region),
                GameVersion.for_flavor(message.flavor),
                message.realm_slug,
                message.name,
            )
        except BlizzardNotFound:
            self.give_up(message, "character not found on Battle.net")
            return Outcome.FAILED
        except BlizzardError as exc:
            if self.should_retry(exc):
                raise
            self.give_up(message, exc.message)
            return Outcome.FAILED
        self.sessions.record_character_result(
            session_id, message.character_id, "completed", None, data
        )
        if self.snapshots is not None:  # after the result: a snapshot never fails the character
            self.snapshots.capture(
                SnapshotTarget(
                    message.character_id,
                    Region.parse(message.region),
                    GameVersion.for_flavor(message.flavor),
                    message.realm_slug,
                    message.name,
                    parse_time(data.get("last_modified")),
                    data.get("last_login_timestamp"),
                )
            )
        return Outcome.DONE

    def give_up(self, message: EnrichCharacter, reason: str) -> None:
        """The character fails for good (idempotent: counted once per session)."""
        self.sessions.record_character_result(
            str(message.session_id), message.character_id, "failed", reason, None
        )
