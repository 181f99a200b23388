"""What a user reads of their characters: the list (with transfer links and connected-realm
groups) and one character's history of changes.

A connected-realm group is the set of realms Blizzard joined into one connected realm: their
characters can trade and group. `realmGroups` lists, per region and flavor, each group the
user has characters in: `{connectedRealmId, region, flavor, realms: [names], characterIds}`.
A realm whose group is not known yet (static data not synced) is a group of its own, with
`connectedRealmId` null.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.db.characters import CharacterStore
from shared.errors import NotFound
from shared.validation import validate

DEFAULT_HISTORY_LIMIT = 100
MAX_HISTORY_LIMIT = 500


class HistoryQuery(BaseModel):
    """`?since=<ISO time>&limit=<1..500>` (a time without an offset is UTC)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    since: datetime | None = None
    limit: int = Field(default=DEFAULT_HISTORY_LIMIT, ge=1, le=MAX_HISTORY_LIMIT)

    @field_validator("since", mode="before")
    @classmethod
    def _iso_time(cls, value: Any) -> Any:
        if value is None or isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value).strip().replace(" ", "+"))
        except ValueError:
            raise ValueError("since must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    @classmethod
    def parse(cls, args: dict[str, str]) -> HistoryQuery:
        return validate(cls, args)


def realm_groups(characters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The user's characters grouped by connected realm, in the order they first appear."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in characters:
        connected = c.get("connectedRealmId")
        own = ("realm", c.get("realmSlug")) if connected is None else ("connected", connected)
        key = (c.get("region"), c.get("flavor"), *own)
        group = groups.setdefault(
            key,
            {
                "connectedRealmId": connected,
                "region": c.get("region"),
                "flavor": c.get("flavor"),
                "realms": [],
                "characterIds": [],
            },
        )
        if c.get("realm") not in group["realms"]:
            group["realms"].append(c.get("realm"))
        group["characterIds"].append(c["id"])
    for group in groups.values():
        group["realms"].sort()
    return list(groups.values())


class CharacterDirectory:
    def __init__(self, characters: CharacterStore) -> None:
        self.characters = characters

    def listing(self, user_id: uuid.UUID | str) -> dict[str, Any]:
        characters = self.characters.list_user_characters(user_id)
        return {"characters": characters, "realmGroups": realm_groups(characters)}

    def history(
        self, owner: uuid.UUID | None, character_id: int, query: HistoryQuery
    ) -> dict[str, Any]:
        """The character's changes, newest first: 404 when it is not the owner's (any
        character for the service key, `owner` None)."""
        found = self.characters.character_history(owner, character_id, query.since, query.limit)
        if found is None:
            raise NotFound("no such character")
        return found
