"""What the routes share: the state, Blizzard error bodies, namespaces, Last-Modified/304."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from flask import Response, current_app, g, jsonify, request
from werkzeug.http import HTTP_STATUS_CODES, http_date

from .gamedata import Namespace, parse_namespace
from .shapes import Hrefs
from .state import State, Token

STATE_KEY = "bnet_emulator"


class ApiError(Exception):
    """An API answer other than 2xx, in Blizzard's `{code, type, detail}` shape."""

    def __init__(self, status: int, detail: str | None = None) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail or HTTP_STATUS_CODES.get(status, "Error")

    def body(self) -> dict[str, Any]:
        return {"code": self.status, "type": f"BLZWEBAPI{self.status:08d}", "detail": self.detail}


def blizzard_error(status: int, detail: str | None = None) -> Response:
    error = ApiError(status, detail)
    response = jsonify(error.body())
    response.status_code = status
    return response


def get_state() -> State:
    return cast(State, current_app.extensions[STATE_KEY])


def current_token() -> Token:
    return cast(Token, g.token)


def namespace(kind: str) -> Namespace:
    """The request's namespace (query wins over header); 404 when it is the wrong kind."""
    text = request.args.get("namespace") or request.headers.get("Battlenet-Namespace")
    if not text:
        raise ApiError(400, "Missing namespace: send ?namespace= or Battlenet-Namespace")
    ns = parse_namespace(text)
    if ns is None:
        raise ApiError(400, f"Malformed namespace {text!r}")
    if ns.kind != kind:
        raise ApiError(404)
    return ns


def hrefs(ns: Namespace) -> Hrefs:
    return Hrefs(request.host_url, ns)


def respond(modified: float, body: Callable[[], dict[str, Any]]) -> Response:
    """JSON with Last-Modified; an empty 304 when If-Modified-Since is at or after it (the
    body is built only when it is sent, so a 304 costs what it costs Battle.net: little)."""
    last_modified = int(modified)
    since = request.if_modified_since
    if since is not None and since.timestamp() >= last_modified:
        response = Response(status=304)
    else:
        response = jsonify(body())
    response.headers["Last-Modified"] = http_date(last_modified)
    return response
