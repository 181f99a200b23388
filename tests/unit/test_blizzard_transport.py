"""The single send (httpx.MockTransport): the budget and breaker hooks around every request an
auth flow sends, OAuth-host calls outside the budget, error mapping, one log line a request."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from shared.blizzard.auth import AppTokenAuth, BearerAuth
from shared.blizzard.models import CharacterStatus, TokenResponse
from shared.blizzard.regions import Region
from shared.blizzard.scope import request_scope
from shared.blizzard.transport import Transport, parse, raise_for_status
from shared.errors import (
    BattlenetUnavailable,
    BlizzardForbidden,
    BlizzardNotFound,
    BlizzardRateLimited,
    BlizzardResponseError,
    BlizzardServerError,
    BlizzardTransportError,
    BlizzardUnauthorized,
    BudgetExhausted,
)

URL = "https://api.test.invalid/profile/wow/character/norgannon/drinian/status"


class CountingLimiter:
    def __init__(self, refuse: bool = False) -> None:
        self.acquired = 0
        self.refuse = refuse

    def acquire(self) -> None:
        if self.refuse:
            raise BudgetExhausted("spent", retry_after=5.0, reason="window")
        self.acquired += 1


class RecordingBreaker:
    def __init__(self, open_: bool = False) -> None:
        self.open = open_
        self.checks = 0
        self.reports: list[tuple[bool, str | None]] = []

    def is_open(self) -> bool:
        return self.open

    def check(self) -> None:
        self.checks += 1
        if self.open:
            raise BattlenetUnavailable("open", retry_after=1.0, reason="breaker")

    def record(self, ok: bool, error: str | None = None) -> None:
        self.reports.append((ok, error))

    def claim_probe(self) -> bool:
        return False


class Wire:
    """The other end: answers with `handler`, records what was sent."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.sent: list[httpx.Request] = []
        self.handler = handler
        self.limiter = CountingLimiter()
        self.breaker = RecordingBreaker()
        self.transport = Transport(
            httpx.MockTransport(self.answer), self.limiter, self.breaker, httpx.Timeout(2.5)
        )

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.handler(request)


def status(code: int, **kw: object) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _: httpx.Response(code, **kw)  # type: ignore[arg-type]


def test_an_api_request_spends_the_budget_and_reports_to_the_breaker() -> None:
    wire = Wire(status(200, json={}))
    with request_scope() as counter:
        wire.transport.send("GET", URL, auth=BearerAuth("t"), api=True)
    assert wire.limiter.acquired == 1 and wire.breaker.checks == 1
    assert wire.breaker.reports == [(True, None)] and counter.count == 1
    assert wire.sent[0].headers["Authorization"] == "Bearer t"


def test_an_oauth_host_call_neither_spends_the_budget_nor_reports() -> None:
    wire = Wire(status(500))
    with request_scope() as counter:
        response = wire.transport.send("POST", "https://oauth.test.invalid/token")
    assert response.status_code == 500  # the send maps nothing: the caller decides
    assert wire.limiter.acquired == 0 and wire.breaker.checks == 0 and wire.breaker.reports == []
    assert counter.count == 1  # counted as a request all the same


def test_the_request_sent_again_after_a_401_spends_its_own_token() -> None:
    answers = iter([401, 200])
    wire = Wire(lambda _: httpx.Response(next(answers), json={}))
    issued = iter(["stale", "fresh"])
    auth = AppTokenAuth(lambda: TokenResponse(access_token=next(issued)))
    with request_scope() as counter:
        response = wire.transport.send("GET", URL, auth=auth, api=True)
    assert response.status_code == 200
    assert [r.headers["Authorization"] for r in wire.sent] == ["Bearer stale", "Bearer fresh"]
    assert wire.limiter.acquired == 2 and wire.breaker.checks == 2 and counter.count == 2
    assert wire.breaker.reports == [(True, None), (True, None)]  # a 401 is an answer


def test_an_open_breaker_refuses_before_anything_is_sent() -> None:
    wire = Wire(status(200))
    wire.breaker.open = True
    with pytest.raises(BattlenetUnavailable):
        wire.transport.send("GET", URL, api=True)
    assert wire.sent == [] and wire.limiter.acquired == 0


def test_a_probe_passes_the_open_breaker_and_reports() -> None:
    wire = Wire(status(200))
    wire.breaker.open = True
    assert wire.transport.send("GET", URL, api=True, probe=True).status_code == 200
    assert wire.breaker.checks == 0 and wire.breaker.reports == [(True, None)]
    assert wire.limiter.acquired == 1  # a probe spends the budget like any request


def test_a_spent_budget_sends_nothing() -> None:
    wire = Wire(status(200))
    wire.limiter.refuse = True
    with pytest.raises(BudgetExhausted):
        wire.transport.send("GET", URL, api=True)
    assert wire.sent == []


def test_5xx_is_reported_as_a_failure_and_4xx_as_an_answer() -> None:
    codes = iter([503, 404])
    wire = Wire(lambda _: httpx.Response(next(codes)))
    for _ in range(2):
        wire.transport.send("GET", URL, api=True)
    assert wire.breaker.reports == [(False, "HTTP 503"), (True, None)]


def test_a_transport_error_is_mapped_and_reported() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    wire = Wire(unreachable)
    with pytest.raises(BlizzardTransportError, match="ConnectTimeout on GET") as info:
        wire.transport.send("GET", URL, auth=BearerAuth("secret-token"), api=True)
    assert info.value.url == URL and "secret-token" not in str(info.value)
    assert wire.breaker.reports == [(False, "ConnectTimeout")]


def test_one_log_line_per_request_with_status_and_latency(
    caplog: pytest.LogCaptureFixture,
) -> None:
    codes = iter([401, 503])
    wire = Wire(lambda _: httpx.Response(next(codes)))
    auth = AppTokenAuth(lambda: TokenResponse(access_token="app-secret"))
    with caplog.at_level(logging.INFO, logger="shared.blizzard.transport"):
        wire.transport.send("GET", URL, auth=auth, api=True, params={"locale": "en_US"})
    lines = [r for r in caplog.records if r.name == "shared.blizzard.transport"]
    assert [r.levelno for r in lines] == [logging.INFO, logging.WARNING]
    fields = [r.fields for r in lines]  # type: ignore[attr-defined]
    assert [f["status"] for f in fields] == [401, 503]
    assert all(f["url"] == URL and f["upstream"] == "battlenet" for f in fields)
    assert all(f["latencyMs"] >= 0 for f in fields)
    assert "app-secret" not in caplog.text and "en_US" not in caplog.text


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (401, BlizzardUnauthorized),
        (403, BlizzardForbidden),
        (404, BlizzardNotFound),
        (429, BlizzardRateLimited),
        (502, BlizzardServerError),
    ],
)
def test_statuses_map_to_the_exception_tree(code: int, error: type[Exception]) -> None:
    body = {"code": code, "type": "BLZWEBAPI", "detail": "Not Found"}
    response = httpx.Response(code, json=body)
    with pytest.raises(
        error, match=f"answered {code} Not Found for {URL} \\(profile-us\\)"
    ) as info:
        raise_for_status(response, URL, Region.US, "profile-us")
    assert info.value.http_status == code  # type: ignore[attr-defined]
    assert info.value.namespace == "profile-us" and info.value.region == Region.US  # type: ignore[attr-defined]


def test_answers_below_400_pass_and_bodies_that_do_not_fit_are_errors() -> None:
    raise_for_status(httpx.Response(304), URL, Region.US, None)
    good = httpx.Response(200, json={"id": 1, "is_valid": True})
    assert parse(CharacterStatus, good, URL, Region.US).is_valid is True
    with pytest.raises(BlizzardResponseError, match="did not parse"):
        parse(CharacterStatus, httpx.Response(200, content=b"<html>"), URL, Region.EU)


def test_every_request_carries_the_timeout_and_the_apps_headers() -> None:
    wire = Wire(status(200, json={}))
    wire.transport.send("GET", URL, params={"locale": "en_US"}, headers={"If-None-Match": "x"})
    sent = wire.sent[0]
    assert sent.extensions["timeout"] == httpx.Timeout(2.5).as_dict()
    assert sent.headers["User-Agent"] == "guild-sync" and "gzip" in sent.headers["Accept-Encoding"]
    assert sent.headers["If-None-Match"] == "x" and sent.url.params["locale"] == "en_US"


def test_a_redirect_is_an_answer_never_followed() -> None:
    wire = Wire(status(302, headers={"Location": "https://elsewhere.invalid/"}))
    assert wire.transport.send("GET", URL, api=True).status_code == 302
    assert [str(r.url) for r in wire.sent] == [URL]


def test_the_answer_is_read_whole_decoded_and_its_connection_given_back() -> None:
    body = gzip.compress(json.dumps({"id": 7, "is_valid": True}).encode())
    closed: list[bool] = []

    class Stream(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield body

        def close(self) -> None:
            closed.append(True)

    wire = Wire(
        lambda _: httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=Stream())
    )
    response = wire.transport.send("GET", URL, api=True)
    assert closed == [True]  # the connection is back in the pool before the caller parses
    assert parse(CharacterStatus, response, URL, Region.US).id == 7
