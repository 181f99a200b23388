"""`enrich_character`: one character of a session, with the app token (profile and media),
recorded with its result in one SQL call that also advances the session (written with the
delivery's delete, a batch of characters in one round trip: `Recorded`). A 404 fails the
character at once; transient failures are retried; after the last attempt the character
counts as failed."""

from __future__ import annotations

import uuid
from typing import Literal

from shared.blizzard.regions import GameVersion, Region
from shared.db.queue import Delivery
from shared.db.sessions import SessionStore, result_record
from shared.errors import BlizzardError, BlizzardNotFound
from shared.jobs.base import Job, Outcome, Recorded
from shared.jobs.messages import Message
from shared.services.enrichment import CharacterEnricher


class EnrichCharacter(Message):
    """One character of a session: profile and media (`enrichment_message()` in SQL)."""

    type: Literal["enrich_character"] = "enrich_character"
    session_id: uuid.UUID
    character_id: int
    user_id: uuid.UUID
    region: str
    flavor: str
    realm_slug: str
    name: str


class EnrichCharacterJob(Job[EnrichCharacter]):
    message = EnrichCharacter
    max_attempts = 2  # as the seed says

    def __init__(
        self,
        enricher: CharacterEnricher,
        sessions: SessionStore,
    ) -> None:
        self.enricher = enricher
        self.sessions = sessions

    def handle(self, message: EnrichCharacter, delivery: Delivery) -> Outcome | Recorded:
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
        self.enricher.capture(  # a snapshot never fails the character
            message.character_id,
            Region.parse(message.region),
            GameVersion.for_flavor(message.flavor),
            message.realm_slug,
            message.name,
            data,
        )
        return Recorded(
            Outcome.DONE,
            result_record(session_id, message.character_id, "completed", None, data),
        )

    def give_up(self, message: EnrichCharacter, reason: str) -> None:
        """The character fails for good (idempotent: counted once per session)."""
        self.sessions.record_character_result(
            str(message.session_id), message.character_id, "failed", reason, None
        )
