"""POST /functions/v1/sync-static-data `{regions?, gameVersions?}` (service-role key).

Fetches classes, races and realms for each region and game version, writes them in one
transaction, and answers 200 with counts per region and version; 502 when Battle.net fails
(nothing written); 400 for an unknown region or game version; 401 without a valid key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask
import functions_framework

from shared.http import endpoint, json_response, parse_body
from shared.instance import check_settings, get_app
from shared.routing import SERVICE, Routes

if TYPE_CHECKING:
    from shared.auth import Caller

check_settings()  # a bad setting fails the start, naming the variable
routes = Routes(mount="/functions/v1/sync-static-data")


@routes.post("/functions/v1/sync-static-data", caller=SERVICE)
def sync(request: flask.Request, caller: Caller) -> flask.Response:
    from shared.blizzard.regions import GameVersion, Region  # on the first request
    from shared.bodies import SyncStaticDataRequest

    app = get_app()
    body = parse_body(request, SyncStaticDataRequest)
    regions = [Region.parse(r) for r in body.regions or app.settings.regions]
    versions = [GameVersion.parse(v) for v in body.game_versions or [GameVersion.RETAIL]]
    result = app.static_data.sync(list(dict.fromkeys(regions)), list(dict.fromkeys(versions)))
    return json_response(result.as_json())


@functions_framework.http
@endpoint
def sync_static_data(request: flask.Request) -> flask.typing.ResponseReturnValue:
    return routes.dispatch(request, get_app().auth)
