"""Battle.net login.

GET /functions/v1/oauth-flow/login?redirect_to=...   302 to Battle.net's authorize page
GET /functions/v1/oauth-flow/callback?code&state     302 to redirect_to with the session in the
    fragment (#access_token=...&expires_at=...&token_type=bearer), or 200 JSON
    {user, accessToken, expiresAt} when the login had no redirect_to.
"""

from __future__ import annotations

from urllib.parse import urlencode

import flask
import functions_framework

from shared.blizzard.regions import Region
from shared.bootstrap import get_app
from shared.errors import MethodNotAllowed, NotFound
from shared.http import endpoint, json_response


@functions_framework.http
@endpoint
def oauth_flow(request: flask.Request) -> flask.typing.ResponseReturnValue:
    app = get_app()
    action = request.path.rstrip("/").rsplit("/", 1)[-1]
    if action not in ("login", "callback"):
        raise NotFound("use /oauth-flow/login or /oauth-flow/callback")
    if request.method != "GET":
        raise MethodNotAllowed("use GET")
    if action == "login":
        region = Region.parse(request.args.get("region") or app.settings.blizzard_region)
        return flask.redirect(app.login.begin(request.args.get("redirect_to"), region), 302)
    result = app.login.complete(
        request.args.get("code"), request.args.get("state"), request.args.get("error")
    )
    if result.redirect_to is None:
        return json_response(result.as_json())
    fragment = urlencode(
        {
            "access_token": result.access_token,
            "expires_at": result.expires_at,
            "token_type": "bearer",
            "user_id": result.user["id"],
        }
    )
    response = flask.redirect(f"{result.redirect_to.split('#', 1)[0]}#{fragment}", 302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
