"""Routes: paths with their method and caller kind, bounded path values, 404/405/401."""

from __future__ import annotations

import uuid
from typing import Any

import flask
import pytest

from shared.auth import AuthConfig, Authenticator, Caller, mint_service_key, mint_user_token
from shared.errors import MethodNotAllowed, NotFound, Unauthorized
from shared.routing import ANYONE, OWNER, SERVICE, USER, Routes

SECRET = "r" * 40
SECRET_KEY = "sb_secret_" + "k" * 24
#: Every user a test names exists (unknown users: tests/unit/test_auth.py).
AUTH = Authenticator(
    AuthConfig(issuer="http://127.0.0.1:54321/auth/v1", jwt_secret=SECRET,
               secret_keys=(SECRET_KEY,)),
    lambda user_id: True,
)  # fmt: skip
routes = Routes(mount="/functions/v1/things")


@routes.get("/functions/v1/things/open", caller=ANYONE)
def open_view(request: flask.Request, caller: Caller) -> Any:
    return {"role": caller.role}


@routes.post("/api/v1/things/<id:thing_id>/poke", caller=USER)
def poke(request: flask.Request, caller: Caller, thing_id: int) -> Any:
    return {"thing": thing_id, "user": str(caller.user_id)}


@routes.get("/api/v1/sessions/<uuid:session_id>", caller=OWNER)
def session(request: flask.Request, caller: Caller, session_id: uuid.UUID) -> Any:
    return {"session": str(session_id), "owner": str(caller.owner)}


@routes.get("/functions/v1/things", caller=SERVICE)
@routes.post("/functions/v1/things", caller=SERVICE)
def ops(request: flask.Request, caller: Caller) -> Any:
    return {"service": caller.is_service}


def call(method: str, path: str, token: str | None = None, **headers: str) -> Any:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    app = flask.Flask(__name__)
    with app.test_request_context(path, method=method, headers=headers):
        return routes.dispatch(flask.request, AUTH)


def user_token(user: uuid.UUID) -> str:
    return mint_user_token(user, SECRET, 60)[0]


def test_routes_pass_the_caller_and_bounded_values() -> None:
    user = uuid.uuid4()
    assert call("GET", "/functions/v1/things/open") == {"role": "anon"}
    assert call("GET", "/open/") == {"role": "anon"}  # relative to the function's own path
    assert call("POST", "/api/v1/things/123456789012345678/poke", user_token(user)) == {
        "thing": 123456789012345678,
        "user": str(user),
    }
    assert call("POST", "/api/v1/things/7/poke/", user_token(user))["thing"] == 7
    sid = uuid.uuid4()
    assert call("GET", f"/api/v1/sessions/{sid}", user_token(user))["owner"] == str(user)
    assert call("GET", f"/api/v1/sessions/{sid}", mint_service_key(SECRET))["owner"] == "None"
    assert call("POST", "/", mint_service_key(SECRET)) == {"service": True}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/things/1234567890123456789/poke",  # 19 digits
        "/api/v1/things/-1/poke",
        "/api/v1/things/abc/poke",
        "/api/v1/sessions/not-a-uuid",
        "/api/v1/sessions/" + "1" * 2000,
        "/nowhere",
        "/functions/v1/other",
    ],
)
def test_unknown_or_unbounded_paths_are_404(path: str) -> None:
    with pytest.raises(NotFound, match="no route"):
        call("POST" if "things" in path else "GET", path, mint_service_key(SECRET))


def test_wrong_method_is_405_with_allow() -> None:
    with pytest.raises(MethodNotAllowed) as info:
        call("DELETE", "/functions/v1/things")
    assert info.value.headers["Allow"] == "GET, HEAD, POST"
    assert str(info.value) == "use GET or POST"
    with pytest.raises(MethodNotAllowed) as info:
        call("GET", "/api/v1/things/1/poke")
    assert info.value.allow == ["POST"]


def test_callers_are_authenticated_for_the_route_kind() -> None:
    with pytest.raises(Unauthorized, match="missing"):
        call("GET", "/functions/v1/things")
    with pytest.raises(Unauthorized, match="service-role key"):
        call("GET", "/functions/v1/things", user_token(uuid.uuid4()))
    assert call("GET", "/functions/v1/things", mint_service_key(SECRET)) == {"service": True}
    assert call("GET", "/functions/v1/things", SECRET_KEY) == {"service": True}
    assert call("POST", "/functions/v1/things", apikey=SECRET_KEY) == {"service": True}
    with pytest.raises(Unauthorized, match="publishable"):
        call("POST", "/functions/v1/things", apikey="sb_publishable_" + "k" * 24)
    with pytest.raises(Unauthorized):
        other_key = mint_service_key("another-secret-of-at-least-32-chars")
        call("POST", "/api/v1/things/1/poke", other_key)


def test_a_view_has_one_caller_kind() -> None:
    other = Routes(mount="/functions/v1/other")
    other.get("/a", caller=ANYONE)(open_view)
    other.post("/a", caller=ANYONE)(open_view)
    with pytest.raises(ValueError, match="another caller"):
        other.get("/b", caller=SERVICE)(open_view)
