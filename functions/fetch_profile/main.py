"""The character sync session (served as /functions/v1/fetch-profile and /api/v1/characters).

POST /functions/v1/fetch-profile, POST /api/v1/characters/sync  {gameVersion}   202 started
POST /api/v1/characters/{id}/enrich                                            202 queued
GET  /api/v1/characters/sync/{sessionId}                 current progress (sync-progress shape)
GET  /api/v1/characters/sync/{sessionId}/events          Server-Sent Events, current state first
GET  /api/v1/characters                                  the caller's characters

A user calls with their session JWT; an operator with the service key and `userId`.
"""

from __future__ import annotations

import re
import uuid

import flask
import functions_framework
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Caller
from shared.blizzard.regions import GameVersion
from shared.bootstrap import App, get_app
from shared.errors import BadRequest, MethodNotAllowed, NotFound
from shared.http import authenticate, endpoint, json_response, parse_body

SYNC = re.compile(r"^/(functions/v1/fetch-profile|api/v1/characters/sync)/?$")
ENRICH = re.compile(r"^/api/v1/characters/(\d+)/enrich/?$")
STATE = re.compile(r"^/api/v1/characters/sync/([^/]+)/?$")
EVENTS = re.compile(r"^/api/v1/characters/sync/([^/]+)/events/?$")
LIST = re.compile(r"^/api/v1/characters/?$")


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    game_version: str = Field(default=GameVersion.RETAIL.value, alias="gameVersion")
    user_id: uuid.UUID | None = Field(default=None, alias="userId")


def acting_user(caller: Caller, user_id: uuid.UUID | None) -> uuid.UUID:
    """The user a call is about: the caller, or `userId` when the service key calls."""
    if caller.is_service:
        if user_id is None:
            raise BadRequest("userId is required with the service key")
        return user_id
    assert caller.user_id is not None
    return caller.user_id


def owner(caller: Caller) -> uuid.UUID | None:
    return None if caller.is_service else caller.user_id


def require(method: str, request: flask.Request) -> None:
    if request.method != method:
        raise MethodNotAllowed(f"use {method}")


@functions_framework.http
@endpoint
def fetch_profile(request: flask.Request) -> flask.typing.ResponseReturnValue:
    app = get_app()
    caller = authenticate(request, app.settings.supabase_jwt_secret.get_secret_value())
    path = request.path
    if SYNC.match(path):
        require("POST", request)
        body = parse_body(request, SyncRequest)
        version = GameVersion.parse(body.game_version)
        started = app.character_sync.start(acting_user(caller, body.user_id), version)
        return json_response(started.as_json(), 202)
    if match := ENRICH.match(path):
        require("POST", request)
        user = acting_user(caller, _query_user(request))
        return json_response(app.character_sync.enqueue_one(user, int(match.group(1))), 202)
    if match := EVENTS.match(path):
        require("GET", request)
        return _event_stream(app, match.group(1), owner(caller))
    if match := STATE.match(path):
        require("GET", request)
        return json_response(app.character_sync.state(match.group(1), owner(caller))["data"])
    if LIST.match(path):
        require("GET", request)
        user = acting_user(caller, _query_user(request))
        return json_response({"characters": app.repo.list_user_characters(user)})
    raise NotFound(f"no route {request.method} {path}")


def _query_user(request: flask.Request) -> uuid.UUID | None:
    raw = request.args.get("userId")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        raise BadRequest("userId must be a UUID") from None


def _event_stream(app: App, session_id: str, user: uuid.UUID | None) -> flask.Response:
    first = app.character_sync.state(session_id, user)  # 404 before the stream starts
    stream = app.progress.events(session_id, first, flask.request.headers.get("Last-Event-ID"))
    return flask.Response(
        flask.stream_with_context(stream),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
