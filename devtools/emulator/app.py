"""The Flask app: blueprints plus the request pipeline every API/OAuth request goes through.

Pipeline (API = /data/..., /profile/...; OAuth = /oauth/...; /_emulator is exempt):
count in stats -> per-second rate limit (API and /oauth/token) -> latency sleep ->
429 if limited -> seeded fault/timeout roll (API, token, userinfo) -> bearer check (API).
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from . import admin, api, oauth
from .responses import STATE_KEY, ApiError, blizzard_error, get_state
from .state import EmulatorConfig, State

QUERY_TOKEN_DETAIL = (
    "Access tokens in the query string are not accepted; "
    "send them in the Authorization header (Authorization: Bearer <token>)"
)


class _JsonProvider(DefaultJSONProvider):
    ensure_ascii = False  # Battle.net sends UTF-8, not \u escapes
    sort_keys = False  # keep Blizzard's field order
    compact = True


def _kind(path: str) -> str:
    if path == "/_emulator" or path.startswith("/_emulator/"):
        return "admin"
    if path == "/oauth" or path.startswith("/oauth/"):
        return "oauth"
    if path.startswith(("/data/", "/profile/")):
        return "api"
    return "other"


def _endpoint_name(kind: str) -> str:
    endpoint = request.endpoint or ""
    if kind == "oauth" and endpoint.startswith("oauth."):
        return endpoint.removeprefix("oauth.")
    return api.ENDPOINT_NAMES.get(endpoint, "unknown")


def _authenticate() -> None:
    if "access_token" in request.args:
        raise ApiError(401, QUERY_TOKEN_DETAIL)
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    token = get_state().token(value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise ApiError(401)
    g.token = token


def _before_request() -> Response | None:
    kind = g.kind = _kind(request.path)
    if kind in ("admin", "other"):
        return None
    state = get_state()
    endpoint = _endpoint_name(kind)
    limited = state.admit(endpoint, limited=kind == "api" or endpoint == "token")
    config = state.config
    if config.latency_ms:
        state.sleep(config.latency_ms / 1000)
    if limited:
        return blizzard_error(429)
    if kind == "api" or endpoint in ("token", "userinfo"):
        fate = state.roll()
        if fate == "timeout":
            state.sleep(config.timeout_seconds)
        elif fate == "fault":
            return blizzard_error(503)
    if kind == "api":
        _authenticate()
    return None


def _after_request(response: Response) -> Response:
    kind = g.get("kind")
    if kind in ("api", "oauth"):
        get_state().record_status(response.status_code, _endpoint_name(kind))
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if g.get("kind") == "admin":
        response = admin.AdminError(status, error.description or error.name).response()
    else:
        response = blizzard_error(status)
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response


def create_app(config: EmulatorConfig | None = None, *, state: State | None = None) -> Flask:
    """A Battle.net emulator app. Without config: EmulatorConfig.from_env()."""
    app = Flask(__name__)
    app.json = _JsonProvider(app)
    app.extensions[STATE_KEY] = state or State(config or EmulatorConfig.from_env())
    for blueprint in (oauth.bp, api.bp, admin.bp):
        app.register_blueprint(blueprint)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.register_error_handler(ApiError, lambda e: blizzard_error(e.status, e.detail))
    app.register_error_handler(oauth.OAuthError, lambda e: e.response())
    app.register_error_handler(admin.AdminError, lambda e: e.response())
    app.register_error_handler(HTTPException, _http_error)
    return app
