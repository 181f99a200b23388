"""The character sync session (served as /functions/v1/fetch-profile and /api/v1/characters).

POST /functions/v1/fetch-profile, POST /api/v1/characters/sync  {gameVersion}   202 started
POST /api/v1/characters/{id}/enrich                                            202 queued
GET  /api/v1/characters/sync/{sessionId}                 current progress (sync-progress shape)
GET  /api/v1/characters/sync/{sessionId}/events          Server-Sent Events, current state first
GET  /api/v1/characters                   the caller's characters and their realm groups
GET  /api/v1/characters/{id}/history       the character's changes (?since=, ?limit=)
GET, PUT /api/v1/me/sync-preferences       {autoSync, gameVersions} (+ nextSyncAt, reason)
GET  /api/v1/characters/{id}/snapshots?kind=equipment|talents   owner or guildmate
GET  /api/v1/characters/{id}/snapshots/{snapshotId}             one whole snapshot
GET  /api/v1/guilds/{id}                   a guild with members from its connected realms

A user calls with their session JWT; an operator with the service key, naming the user by
`userId` / `user_id` or `battlenet_id` (query string or JSON body).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import flask
import functions_framework

from shared.http import endpoint, json_response, parse_body
from shared.instance import check_settings, get_app
from shared.routing import OWNER, USER, Routes

if TYPE_CHECKING:
    from shared.auth import Caller
    from shared.bootstrap import App
    from shared.services.users import UserSelector

check_settings()  # a bad setting fails the start, naming the variable
routes = Routes(mount="/functions/v1/fetch-profile")


@routes.post("/functions/v1/fetch-profile", "/api/v1/characters/sync", caller=USER)
def start_sync(request: flask.Request, caller: Caller) -> flask.typing.ResponseReturnValue:
    from shared.blizzard.regions import GameVersion  # on the first request
    from shared.bodies import SyncRequest

    app = get_app()
    body = parse_body(request, SyncRequest)
    version = GameVersion.parse(body.game_version)
    user = app.users.acting_user(caller, query_selector(request).combine(body))
    started = app.character_sync.start(user, version, limited=not caller.is_service)
    return json_response(started.as_json(), 202)


@routes.post("/api/v1/characters/<id:character_id>/enrich", caller=OWNER)
def enrich(request: flask.Request, caller: Caller, character_id: int) -> flask.Response:
    app = get_app()
    user = app.users.acting_user(caller, query_selector(request))
    queued = app.character_sync.enqueue_one(user, character_id, limited=not caller.is_service)
    return json_response(queued, 202)


@routes.get("/api/v1/characters/sync/<uuid:session_id>", caller=OWNER)
def sync_state(request: flask.Request, caller: Caller, session_id: uuid.UUID) -> flask.Response:
    return json_response(get_app().character_sync.state(str(session_id), caller.owner)["data"])


@routes.get("/api/v1/characters/sync/<uuid:session_id>/events", caller=OWNER)
def sync_events(request: flask.Request, caller: Caller, session_id: uuid.UUID) -> flask.Response:
    return _event_stream(get_app(), str(session_id), caller.owner)


@routes.get("/api/v1/characters", caller=USER)
def list_characters(request: flask.Request, caller: Caller) -> flask.Response:
    app = get_app()
    user = app.users.acting_user(caller, query_selector(request))
    return json_response(app.characters.listing(user))


@routes.get("/api/v1/characters/<id:character_id>/history", caller=OWNER)
def character_history(request: flask.Request, caller: Caller, character_id: int) -> flask.Response:
    from shared.services.characters import HistoryQuery

    query = HistoryQuery.parse(request.args.to_dict())
    return json_response(get_app().characters.history(caller.owner, character_id, query))


@routes.get("/api/v1/me/sync-preferences", caller=USER)
def get_sync_preferences(request: flask.Request, caller: Caller) -> flask.Response:
    app = get_app()
    user = app.users.acting_user(caller, query_selector(request))
    return json_response(app.sync_preferences.get(user))


@routes.route("PUT", "/api/v1/me/sync-preferences", caller=USER)
def put_sync_preferences(request: flask.Request, caller: Caller) -> flask.Response:
    from shared.services.preferences import SyncPreferencesUpdate

    app = get_app()
    change = parse_body(request, SyncPreferencesUpdate, allow_empty=False)
    user = app.users.acting_user(caller, query_selector(request))
    return json_response(app.sync_preferences.update(user, change))


@routes.get("/api/v1/characters/<id:character_id>/snapshots", caller=USER)
def list_snapshots(request: flask.Request, caller: Caller, character_id: int) -> flask.Response:
    app = get_app()
    user = app.users.acting_user(caller, query_selector(request))
    return json_response(app.snapshots.list(user, character_id, request.args.get("kind")))


@routes.get("/api/v1/characters/<id:character_id>/snapshots/<id:snapshot_id>", caller=USER)
def get_snapshot(
    request: flask.Request, caller: Caller, character_id: int, snapshot_id: int
) -> flask.Response:
    app = get_app()
    user = app.users.acting_user(caller, query_selector(request))
    return json_response(app.snapshots.get(user, character_id, snapshot_id))


@routes.get("/api/v1/guilds/<id:guild_id>", caller=USER)
def guild_page(request: flask.Request, caller: Caller, guild_id: int) -> flask.Response:
    app = get_app()
    user = app.users.acting_user(caller, query_selector(request))
    return json_response(app.snapshots.guild(user, guild_id))


@functions_framework.http
@endpoint
def fetch_profile(request: flask.Request) -> flask.typing.ResponseReturnValue:
    return routes.dispatch(request, get_app().auth)


def query_selector(request: flask.Request) -> UserSelector:
    from shared.services.users import UserSelector
    from shared.validation import validate

    return validate(UserSelector, request.args.to_dict())


def _event_stream(app: App, session_id: str, user: uuid.UUID | None) -> flask.Response:
    first = app.character_sync.state(session_id, user)  # 404 before the stream starts
    last_event_id = flask.request.headers.get("Last-Event-ID")
    # 400 (bad Last-Event-ID) or 429 (too many open streams) before the stream starts; the
    # stream needs no request context, and the response closing it gives its places back
    stream = app.progress.events(session_id, first, last_event_id, user)
    return flask.Response(
        stream,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
