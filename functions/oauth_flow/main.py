"""Battle.net login.

GET /functions/v1/oauth-flow/login?redirect_to=...   302 to Battle.net's authorize page, with the
    login cookie that binds the state to this browser
GET /functions/v1/oauth-flow/callback?code&state     302 to redirect_to with the session in the
    fragment (#access_token=...&expires_at=...&token_type=bearer), or 200 JSON
    {user, accessToken, expiresAt} when the login had no redirect_to; 400 without the login
    cookie of the browser that started the login. Every answer clears that cookie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import flask
import functions_framework
import werkzeug

from shared.http import client_address, endpoint, json_response
from shared.instance import check_settings, get_app
from shared.routing import ANYONE, Routes

if TYPE_CHECKING:
    from shared.auth import Caller
    from shared.services.login import LoginCookie

check_settings()  # a bad setting fails the start, naming the variable
routes = Routes(mount="/functions/v1/oauth-flow")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}


@routes.get("/functions/v1/oauth-flow/login", caller=ANYONE)
def login(request: flask.Request, caller: Caller) -> werkzeug.Response:
    from shared.blizzard.regions import Region  # on the first request

    app = get_app()
    region = Region.parse(request.args.get("region") or app.settings.blizzard_region)
    started = app.login.begin(request.args.get("redirect_to"), region, client_address(request))
    response = flask.redirect(started.authorize_url, 302)
    cookie = app.login.cookie
    response.set_cookie(
        cookie.name,
        started.browser_key,
        max_age=cookie.max_age,
        path="/",
        secure=cookie.secure,
        httponly=True,
        samesite="Lax",
    )
    response.headers.update(NO_STORE)
    return response


@routes.get("/functions/v1/oauth-flow/callback", caller=ANYONE)
def callback(request: flask.Request, caller: Caller) -> werkzeug.Response:
    app = get_app()
    cookie = app.login.cookie
    flask.after_this_request(lambda response: _forget(response, cookie))  # errors included
    result = app.login.complete(
        request.args.get("code"),
        request.args.get("state"),
        request.args.get("error"),
        request.cookies.get(cookie.name),
    )
    response: werkzeug.Response
    if result.redirect_to is None:
        response = json_response(result.as_json())
    else:
        fragment = urlencode(
            {
                "access_token": result.access_token,
                "expires_at": result.expires_at,
                "token_type": "bearer",
                "user_id": result.user["id"],
            }
        )
        response = flask.redirect(f"{result.redirect_to.split('#', 1)[0]}#{fragment}", 302)
    response.headers.update(NO_STORE)
    return response


@functions_framework.http
@endpoint
def oauth_flow(request: flask.Request) -> flask.typing.ResponseReturnValue:
    return routes.dispatch(request, get_app().auth)


def _forget(response: werkzeug.Response, cookie: LoginCookie) -> werkzeug.Response:
    response.delete_cookie(
        cookie.name, path="/", secure=cookie.secure, httponly=True, samesite="Lax"
    )
    return response
