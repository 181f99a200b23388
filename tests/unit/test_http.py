"""The one mapping from exceptions to answers: 4xx say what was wrong; 5xx say a generic
message and an error id that the log line carries with the real detail."""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

import pytest

from shared.errors import (
    BadRequest,
    BlizzardServerError,
    DataError,
    GuildSyncError,
    MethodNotAllowed,
    SyncAlreadyRunning,
)
from shared.http import to_response
from tests.conftest import said_to_client


def body(exc: Exception) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(to_response(exc).get_data())["error"]
    return error


def test_a_4xx_says_what_was_wrong() -> None:
    assert body(BadRequest("gameVersion: unknown")) == {
        "code": "bad_request",
        "message": "gameVersion: unknown",
    }
    assert body(SyncAlreadyRunning("s-1")) == {
        "code": "sync_already_running",
        "message": "a character sync is already running for this user",
        "sessionId": "s-1",
    }
    response = to_response(MethodNotAllowed("use POST", allow=["POST"]))
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    ("exc", "status", "leak"),
    [
        (
            BlizzardServerError(
                "Battle.net answered 503 for https://us.api.blizzard.com/data/wow/x",
                http_status=503,
                url="https://us.api.blizzard.com/data/wow/x",
            ),
            502,
            "us.api.blizzard.com",
        ),
        (DataError("connection to server at 10.0.0.5 failed: FATAL password"), 500, "10.0.0.5"),
        (RuntimeError("driver said: relation secret_table"), 500, "secret_table"),
    ],
)
def test_a_5xx_says_a_generic_message_and_an_id_the_log_carries(
    caplog: pytest.LogCaptureFixture, exc: Exception, status: int, leak: str
) -> None:
    with caplog.at_level(logging.ERROR, logger="shared.http"):
        response = to_response(exc)
    assert response.status_code == status
    text = response.get_data(as_text=True)
    error = json.loads(text)["error"]
    said = said_to_client(text)
    assert leak not in said and "503" not in said
    assert set(error) == {"code", "message", "id"}
    [record] = [r for r in caplog.records if error["id"] in r.getMessage()]
    assert leak in record.getMessage()


def test_retry_after_and_public_fields_survive_a_5xx() -> None:
    class Unavailable(GuildSyncError):
        status = 503
        code = "blizzard_unavailable"
        public_message: ClassVar[str] = "Battle.net is unavailable; try again soon"

    response = to_response(Unavailable("breaker open since 12:00", public={"retryAfter": 7}))
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    error = json.loads(response.get_data())["error"]
    assert error["message"] == "Battle.net is unavailable; try again soon"
    assert error["retryAfter"] == 7 and "12:00" not in json.dumps(error)
