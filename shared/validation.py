"""Input parsed into pydantic models: what a validation error says to the caller (a 400's
message), shared by the HTTP layer and the services that validate what they are given."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared.errors import BadRequest, GuildSyncError

M = TypeVar("M", bound=BaseModel)


def describe_validation_error(exc: ValidationError) -> str:
    """The first few problems, each `where: what` (a GuildSyncError raised by a validator keeps
    its own words)."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        msg = err["msg"]
        ctx = err.get("ctx") or {}
        if isinstance(ctx.get("error"), GuildSyncError):
            msg = str(ctx["error"])
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def validate(model: type[M], payload: object) -> M:
    """`payload` as `model`; BadRequest saying what is wrong."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc)) from None
