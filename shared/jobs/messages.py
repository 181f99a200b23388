"""One pydantic model per queued message type: the exact shape the SQL that enqueues writes
(`tests/integration/test_job_messages.py` checks every SQL producer against its model)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel


class Message(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, alias_generator=to_camel
    )


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


class ProfileSync(Message):
    """An account sync: a login's first sync (a session) or a scheduled one (bulk refreshes)."""

    type: Literal["profile_sync"] = "profile_sync"
    user_id: uuid.UUID
    game_version: str = "retail"
    reason: Literal["login", "scheduled"]


class RefreshCharacter(Message):
    """A conditional refresh of a known character (`refresh_message()` in SQL)."""

    type: Literal["refresh_character"] = "refresh_character"
    character_id: int
    blizzard_id: int
    region: str
    flavor: str
    realm_slug: str
    name: str
    last_modified: datetime | None = None


class GuildRoster(Message):
    """A guild's roster (`roster_message()` in SQL)."""

    type: Literal["guild_roster"] = "guild_roster"
    guild_id: int
    region: str
    flavor: str
    realm_slug: str
    slug: str
    last_modified: datetime | None = None


class StaticData(Message):
    """Classes, races and realms (`enqueue_static_sync()` in SQL)."""

    type: Literal["static_data"] = "static_data"
    regions: list[str] | None = None
    game_versions: list[str] | None = None


AnyMessage = Annotated[
    EnrichCharacter | ProfileSync | RefreshCharacter | GuildRoster | StaticData,
    Field(discriminator="type"),
]
MESSAGES: TypeAdapter[AnyMessage] = TypeAdapter(AnyMessage)
