"""The routes of a function: each path declared once, next to its view, with its method and who
may call it (Werkzeug's `Map` underneath).

    routes = Routes()

    @routes.post("/functions/v1/sync-static-data", caller=SERVICE)
    def sync(request: flask.Request, caller: Caller) -> flask.typing.ResponseReturnValue: ...

    @functions_framework.http
    @endpoint
    def sync_static_data(request: flask.Request) -> flask.typing.ResponseReturnValue:
        return routes.dispatch(request, get_app().auth)

An unknown path answers 404, a wrong method 405 with `Allow`; then the caller is authenticated
for the route's kind, and the view gets the request, the caller and the path's values. Path
values are bounded: `<id:...>` is 1 to 18 digits (an int), `<uuid:...>` a UUID; anything else
does not match (404). A trailing slash is optional.

Routes keep their full paths (the local gateway and a path-preserving load balancer pass them
on). A path that is not a full one (`/`, `/status`, `/callback`: what a function's own URL on
Cloud Functions or Cloud Run delivers) is taken relative to the function's `mount`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flask
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import BaseConverter, Map, Rule

from shared.auth import Caller, require_service
from shared.errors import MethodNotAllowed, NotFound
from shared.logs import bind

if TYPE_CHECKING:
    from shared.auth import Authenticator

View = Callable[..., flask.typing.ResponseReturnValue]
FULL_PATHS = ("/functions/v1/", "/api/v1/")


class Access(enum.Enum):
    """Who may call a route."""

    ANYONE = "anyone"  # no token: the login and Battle.net's callback
    USER = "user"  # a user's JWT, or the service key acting for a user the call names
    OWNER = "owner"  # a user's JWT for their own rows (another's answer 404), or the service key
    SERVICE = "service"  # a service credential only (sb_secret_ key, or legacy service-role key)


ANYONE, USER, OWNER, SERVICE = Access.ANYONE, Access.USER, Access.OWNER, Access.SERVICE
#: The caller of an ANYONE route: no role, no user (its `owner` is refused).
ANONYMOUS = Caller("anon", None, {})


class IdConverter(BaseConverter):
    """A database id in a path: 1 to 18 digits (always fits a bigint)."""

    regex = r"\d{1,18}"
    weight = 50

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


class Routes:
    def __init__(self, mount: str) -> None:
        self.mount = mount.rstrip("/")  # the function's own path: /functions/v1/<name>
        # Rules are kept without a trailing slash and matched against the path without one
        # (Werkzeug's own slash handling answers 404 instead of 405 for a wrong method).
        self.map = Map(converters={"id": IdConverter}, merge_slashes=False)
        self.views: dict[str, tuple[Access, View]] = {}

    def route(self, method: str, *paths: str, caller: Access) -> Callable[[View], View]:
        def register(view: View) -> View:
            name = view.__name__
            if self.views.setdefault(name, (caller, view)) != (caller, view):
                raise ValueError(f"another view named {name!r}, or another caller, is routed")
            for path in paths:
                self.map.add(Rule(path.rstrip("/") or "/", methods=[method], endpoint=name))
            return view

        return register

    def get(self, *paths: str, caller: Access) -> Callable[[View], View]:
        return self.route("GET", *paths, caller=caller)

    def post(self, *paths: str, caller: Access) -> Callable[[View], View]:
        return self.route("POST", *paths, caller=caller)

    def dispatch(
        self, request: flask.Request, auth: Authenticator
    ) -> flask.typing.ResponseReturnValue:
        path = request.path.rstrip("/")
        if not path.startswith(FULL_PATHS):
            path = self.mount + path
        adapter = self.map.bind("localhost")
        try:
            rule, values = adapter.match(path, method=request.method, return_rule=True)
        except WerkzeugMethodNotAllowed as exc:
            allow = sorted(exc.valid_methods or [])
            use = " or ".join(m for m in allow if m not in ("HEAD", "OPTIONS"))
            raise MethodNotAllowed(f"use {use}", allow=allow) from None
        except WerkzeugNotFound:
            raise NotFound(f"no route {request.method} {request.path[:200]}") from None
        bind(route=f"{request.method} {rule.rule}")
        access, view = self.views[str(rule.endpoint)]
        caller = authorize(access, request, auth)
        bind(userId=caller.user_id and str(caller.user_id), role=caller.role)  # never a token
        return view(request, caller, **values)


def authorize(access: Access, request: flask.Request, auth: Authenticator) -> Caller:
    """The caller of a route of this kind (Unauthorized otherwise)."""
    if access is ANYONE:
        return ANONYMOUS
    caller = auth.caller(request.headers.get("Authorization"), request.headers.get("apikey"))
    return require_service(caller) if access is SERVICE else caller
