"""What the functions' routes read from a request body, as pydantic models (parsed with
`shared.http.parse_body`). They live here rather than in each main.py so that importing a
function loads none of what they name (Battle.net's regions, the queues, the worker, the users
service): a view imports its model on the first request (README, Cold start). Query strings
and the bodies a use case owns are the services' (`UserSelector`, `HistoryQuery`,
`SyncPreferencesUpdate`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from shared.blizzard.regions import GameVersion
from shared.db.queue import Queue
from shared.jobs.worker import DEFAULT_VISIBILITY_TIMEOUT
from shared.services.users import UserSelector


class SyncStaticDataRequest(BaseModel):
    """POST /functions/v1/sync-static-data: `{regions?, gameVersions?}`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    regions: list[str] | None = None
    game_versions: list[str] | None = Field(default=None, alias="gameVersions")

    @field_validator("regions", "game_versions")
    @classmethod
    def _not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("must not be empty when given")
        return value


class SyncRequest(UserSelector):
    """A character sync: `{gameVersion}`, and for the operator the user it acts for."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    game_version: str = Field(
        default=GameVersion.RETAIL.value, validation_alias=AliasChoices("gameVersion")
    )


class ConsumeRequest(BaseModel):
    """POST /functions/v1/queue-consumer."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    max_messages: int = Field(default=100, ge=1, le=10_000, alias="maxMessages")
    max_seconds: float = Field(default=20.0, gt=0, le=600, alias="maxSeconds")
    # after the queues run empty, look again for this long before answering (pg_net's calls)
    idle_seconds: float = Field(default=0.0, ge=0, le=60, alias="idleSeconds")
    visibility_timeout: int = Field(
        default=DEFAULT_VISIBILITY_TIMEOUT, ge=1, le=3600, alias="visibilityTimeout"
    )


class RequeueRequest(BaseModel):
    """Which dead letters to put back: a queue, those archived since a time, those whose reason
    contains a text; at most `limit`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    queue: Queue | None = None
    since: datetime | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    limit: int = Field(default=1000, ge=1, le=100_000)


class PruneRequest(BaseModel):
    """A prune run by hand: characters of no user unseen in a roster for `afterDays` (default
    CHARACTER_PRUNE_AFTER_DAYS), at most `maxBatches` batches of `batchSize`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    after_days: int | None = Field(default=None, ge=1, le=3650, alias="afterDays")
    batch_size: int = Field(default=1000, ge=1, le=10_000, alias="batchSize")
    max_batches: int = Field(default=50, ge=1, le=1000, alias="maxBatches")
