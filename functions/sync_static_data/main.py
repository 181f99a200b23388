"""POST /functions/v1/sync-static-data `{regions?, gameVersions?}` (service-role key).

Fetches classes, races and realms for each region and game version, writes them in one
transaction, and answers 200 with counts per region and version; 502 when Battle.net fails
(nothing written); 400 for an unknown region or game version; 401 without a valid key.
"""

from __future__ import annotations

import flask
import functions_framework
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.auth import Caller
from shared.blizzard.regions import GameVersion, Region
from shared.bootstrap import check_settings, get_app
from shared.http import endpoint, json_response, parse_body
from shared.routing import SERVICE, Routes

check_settings()
routes = Routes(mount="/functions/v1/sync-static-data")


class SyncStaticDataRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    regions: list[str] | None = None
    game_versions: list[str] | None = Field(default=None, alias="gameVersions")

    @field_validator("regions", "game_versions")
    @classmethod
    def _not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("must not be empty when given")
        return value


@routes.post("/functions/v1/sync-static-data", caller=SERVICE)
def sync(request: flask.Request, caller: Caller) -> flask.Response:
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
