"""HTTP plumbing every handler shares: the JSON error shape, the mapping of the exception tree
to statuses (in exactly one place), CORS, and request bodies parsed into pydantic models.
Routes and who may call them: `shared.routing`. Importing it loads Flask alone (what the
platform has loaded already): it reads the settings and validates bodies where it needs them.

A 4xx answer says what was wrong. A 5xx answer never carries driver or Battle.net text: it
says `{"error": {"code", "message": <generic>, "id"}}` and the log line with the real detail
carries the same id."""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import flask
from werkzeug.exceptions import HTTPException

from shared.errors import BadRequest, GuildSyncError
from shared.logs import bind, request_context, trace_fields

if TYPE_CHECKING:
    from pydantic import BaseModel

log = logging.getLogger(__name__)
M = TypeVar("M", bound="BaseModel")
Handler = Callable[[flask.Request], flask.typing.ResponseReturnValue]


def error_response(
    status: int, code: str, message: str, extra: dict[str, Any] | None = None
) -> flask.Response:
    body = json.dumps({"error": {"code": code, "message": message, **(extra or {})}})
    return flask.Response(body, status=status, mimetype="application/json")


def json_response(payload: Any, status: int = 200) -> flask.Response:
    return flask.Response(
        json.dumps(payload, default=str), status=status, mimetype="application/json"
    )


def to_response(exc: Exception) -> flask.Response:
    """The one mapping from exceptions to HTTP answers."""
    if isinstance(exc, GuildSyncError) and exc.status < 500:
        response = error_response(exc.status, exc.code, exc.message, exc.public)
    elif isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        # Werkzeug's own refusals (a path the framework's route cannot match, a body too large)
        code = (exc.name or "bad request").lower().replace(" ", "_")
        response = error_response(exc.code, code, exc.description or exc.name)
    else:
        error_id = uuid.uuid4().hex
        bind(errorId=error_id)  # on this line and the request's later ones
        if isinstance(exc, GuildSyncError):
            detail = {k: v for k, v in exc.context.items() if v is not None}
            log.error("error %s: %s: %s %s", error_id, type(exc).__name__, exc.message, detail)
            response = error_response(
                exc.status, exc.code, exc.public_message, {**exc.public, "id": error_id}
            )
        else:
            log.error(
                "error %s: unexpected %s: %s", error_id, type(exc).__name__, exc, exc_info=exc
            )
            response = error_response(
                500, GuildSyncError.code, GuildSyncError.public_message, {"id": error_id}
            )
    if isinstance(exc, GuildSyncError):
        response.headers.update(exc.headers)
        if (retry_after := exc.public.get("retryAfter")) is not None:
            response.headers["Retry-After"] = str(retry_after)
    return response


MAX_ADDRESS_LENGTH = 64


def client_address(request: flask.Request) -> str:
    """The client's address as the platform's proxy saw it: behind Google's load balancer
    (which appends `<client>, <load balancer>` to X-Forwarded-For) the second-to-last entry,
    never a first one the client may have written itself; without such a header (locally)
    the peer's address."""
    forwarded = [e.strip() for e in request.headers.get("X-Forwarded-For", "").split(",")]
    if len(forwarded) >= 2 and forwarded[-2]:
        try:  # what a proxy writes is an address: anything else is a broken header
            return str(ipaddress.ip_address(forwarded[-2][:MAX_ADDRESS_LENGTH]))
        except ValueError:
            raise BadRequest("X-Forwarded-For does not end with client addresses") from None
    return (request.remote_addr or "unknown")[:MAX_ADDRESS_LENGTH]


CORS_ALLOW_HEADERS = "authorization, content-type, apikey, x-client-info"
CORS_ALLOW_METHODS = "GET, POST, PUT, OPTIONS"


def endpoint(fn: Handler) -> Handler:
    """Wrap a handler so every error leaves as the JSON error shape, and so browsers on the
    app's origins (OAUTH_ALLOWED_REDIRECTS) may call it (CORS, preflight included).

    functions-framework loads a function's module inside its Flask app's context: there the
    app's own errors (a path its catch-all route does not match, such as one with a newline;
    its plain-text crash page) get the same JSON shape."""
    if flask.has_app_context():
        flask.current_app.register_error_handler(Exception, to_response)

    @functools.wraps(fn)
    def wrapper(request: flask.Request) -> flask.typing.ResponseReturnValue:
        started = time.monotonic()
        with request_context(function=fn.__name__, **_trace(request)):
            if request.method == "OPTIONS":
                response = flask.Response(status=204)
            else:
                try:
                    response = flask.make_response(fn(request))
                except Exception as exc:
                    response = to_response(exc)
            _allow_origin(request, response)
            ms = round((time.monotonic() - started) * 1000, 1)
            log.info(  # the path only: a query may hold a login's code and state
                "%s %s %s in %.0f ms",
                request.method,
                request.path[:200],
                response.status_code,
                ms,
                extra={"fields": {"status": response.status_code, "latencyMs": ms}},
            )
        return response

    return wrapper


def _trace(request: flask.Request) -> dict[str, object]:
    from shared.settings import get_settings  # checked at a function's import

    try:
        project = get_settings().google_cloud_project
    except GuildSyncError:
        project = None
    headers = request.headers
    return trace_fields(headers.get("X-Cloud-Trace-Context"), headers.get("traceparent"), project)


def _allow_origin(request: flask.Request, response: flask.Response) -> None:
    origin = request.headers.get("Origin")
    if not origin:
        return
    from shared.settings import get_settings

    try:
        allowed = get_settings().allowed_redirect_origins
    except GuildSyncError:
        return
    if origin.rstrip("/").lower() in (o.lower() for o in allowed):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        response.headers["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
        response.headers["Vary"] = "Origin"


def parse_body(request: flask.Request, model: type[M], *, allow_empty: bool = True) -> M:
    from shared.validation import validate

    raw = request.get_data(cache=True)
    if not raw.strip():
        if allow_empty:
            raw = b"{}"
        else:
            raise BadRequest("a JSON body is required")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON") from None
    except RecursionError:
        raise BadRequest("the body's JSON is nested too deeply") from None
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object")
    return validate(model, payload)
