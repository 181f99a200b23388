"""Which user a call acts for: the caller's own account, or, with the service key, the user the
call names by id (`userId` or `user_id`) or by Battle.net account id (`battlenet_id`), as the
seed's operator calls do (`fetch-profile?battlenet_id=...`)."""

from __future__ import annotations

import uuid

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from shared.auth import Caller
from shared.db.users import UserStore
from shared.errors import BadRequest, Forbidden, NotFound

BIGINT_MAX = 2**63 - 1


class UserSelector(BaseModel):
    """The user a call names (query string or JSON body); at most one way of naming them."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    user_id: uuid.UUID | None = Field(
        default=None, validation_alias=AliasChoices("userId", "user_id")
    )
    battlenet_id: int | None = Field(
        default=None,
        ge=1,
        le=BIGINT_MAX,
        validation_alias=AliasChoices("battlenet_id", "battlenetId"),
    )

    @model_validator(mode="after")
    def _one_way(self) -> UserSelector:
        if self.user_id is not None and self.battlenet_id is not None:
            raise ValueError("name the user by userId (user_id) or by battlenet_id, not both")
        return self

    @property
    def named(self) -> bool:
        return self.user_id is not None or self.battlenet_id is not None

    def combine(self, other: UserSelector) -> UserSelector:
        """One selector from two places (the query and the body); they must agree."""
        if not other.named:
            return self
        if self.named and (self.user_id, self.battlenet_id) != (other.user_id, other.battlenet_id):
            raise BadRequest("the query and the body name different users")
        return other


class UserDirectory:
    def __init__(self, users: UserStore) -> None:
        self.users = users

    def acting_user(self, caller: Caller, selector: UserSelector) -> uuid.UUID:
        """The user a call is about. A user's token acts for that user only (403 when it names
        another); the service key must name an existing user (400 without one, 404 unknown)."""
        if not caller.is_service:
            own = caller.owner
            assert own is not None
            if selector.battlenet_id is not None or selector.user_id not in (None, own):
                raise Forbidden("a user's token acts for that user only")
            return own
        if not selector.named:
            raise BadRequest(
                "with the service key, name the user: userId (or user_id) or battlenet_id"
            )
        found = self.users.find_user_id(selector.user_id, selector.battlenet_id)
        if found is None:
            if selector.battlenet_id is not None:
                raise NotFound(f"no user with Battle.net account id {selector.battlenet_id}")
            raise NotFound(f"no user {selector.user_id}")
        return found
