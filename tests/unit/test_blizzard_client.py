"""The Battle.net client at the HTTP boundary (pytest-httpx)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from pytest_httpx import HTTPXMock

from shared.blizzard import endpoints as ep
from shared.blizzard.breaker import NoBreaker
from shared.blizzard.client import BlizzardClient, character_segment
from shared.blizzard.regions import GameVersion, Region
from shared.blizzard.scope import request_scope
from shared.errors import (
    BlizzardNotFound,
    BlizzardServerError,
    BlizzardTransportError,
    BlizzardUnauthorized,
)
from shared.settings import Settings
from tests.conftest import TEST_API, make_settings
from tests.fakes import FakeClock
from tests.fakes.battlenet import add_token, sample

STATUS_OK = {"id": 1, "is_valid": True}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(settings: Settings, clock: FakeClock) -> BlizzardClient:
    return BlizzardClient(settings, sleep=clock.sleep, clock=clock)


def status_url(name: str = "drinian", ns: str = "profile-us") -> re.Pattern[str]:
    return re.compile(
        re.escape(f"{TEST_API}/profile/wow/character/norgannon/{name}/status") + r"\?.*"
    )


def fetch_status(client: BlizzardClient, name: str = "Drinian", **kw: object) -> object:
    return client.fetch(
        ep.CHARACTER_STATUS, region=Region.US, path={"realm": "norgannon", "name": name}, **kw
    )


def test_bearer_header_locale_and_namespace(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=status_url(), content=sample("character_status.json"))
    result = fetch_status(client)
    api = httpx_mock.get_requests()[1]
    assert api.headers["Authorization"] == "Bearer app-token"
    assert api.url.params["locale"] == "en_US"
    assert api.url.params["namespace"] == "profile-us"
    assert "access_token" not in api.url.params
    assert result.value().is_valid is True  # type: ignore[attr-defined]
    token_request = httpx_mock.get_requests()[0]
    assert token_request.headers["Authorization"].startswith("Basic ")
    assert token_request.content == b"grant_type=client_credentials"


def test_classic_namespace(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(json=STATUS_OK)
    client.fetch(
        ep.CHARACTER_STATUS,
        region=Region.EU,
        game_version=GameVersion.CLASSIC_ANNIVERSARY,
        path={"realm": "thunderstrike", "name": "x"},
    )
    assert httpx_mock.get_requests()[1].url.params["namespace"] == "profile-classicann-eu"


def test_character_names_are_lowercased_and_percent_encoded(
    httpx_mock: HTTPXMock, client: BlizzardClient
) -> None:
    assert character_segment("Zéphyr") == "z%C3%A9phyr"
    assert character_segment("ÆRENDIL") == "%C3%A6rendil"
    add_token(httpx_mock)
    httpx_mock.add_response(json=STATUS_OK)
    client.fetch(
        ep.CHARACTER_STATUS, region=Region.EU, path={"realm": "aggra-português", "name": "Ñandú"}
    )
    raw = httpx_mock.get_requests()[1].url.raw_path.decode()
    assert raw.startswith("/profile/wow/character/aggra-portugu%C3%AAs/%C3%B1and%C3%BA/status?")


def test_app_token_is_cached_and_renewed_before_expiry(
    httpx_mock: HTTPXMock, client: BlizzardClient, clock: FakeClock
) -> None:
    add_token(httpx_mock, "first", expires_in=3600)
    add_token(httpx_mock, "second", expires_in=3600)
    for _ in range(3):
        httpx_mock.add_response(url=status_url(), json=STATUS_OK)
    fetch_status(client)
    fetch_status(client)
    clock.now += 3600 - 200  # inside the renewal margin
    fetch_status(client)
    auths = [r.headers["Authorization"] for r in httpx_mock.get_requests() if r.method == "GET"]
    assert auths == ["Bearer first", "Bearer first", "Bearer second"]


def test_app_token_renewed_once_on_401(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    add_token(httpx_mock, "stale")
    httpx_mock.add_response(url=status_url(), status_code=401, json={"code": 401})
    add_token(httpx_mock, "fresh")
    httpx_mock.add_response(url=status_url(), json=STATUS_OK)
    fetch_status(client)
    gets = [r for r in httpx_mock.get_requests() if r.method == "GET"]
    assert [r.headers["Authorization"] for r in gets] == ["Bearer stale", "Bearer fresh"]


def test_user_token_401_is_an_answer(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    httpx_mock.add_response(status_code=401, json={"code": 401})
    with pytest.raises(BlizzardUnauthorized):
        client.fetch(ep.ACCOUNT_PROFILE, region=Region.US, user_token="user-token")
    assert len(httpx_mock.get_requests()) == 1


def test_retries_5xx_with_backoff_then_succeeds(
    httpx_mock: HTTPXMock, client: BlizzardClient, clock: FakeClock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=status_url(), status_code=503)
    httpx_mock.add_response(url=status_url(), status_code=500)
    httpx_mock.add_response(url=status_url(), json=STATUS_OK)
    fetch_status(client)
    assert len(clock.sleeps) == 2 and all(0 < s <= 4.1 for s in clock.sleeps)


def test_gives_up_after_max_attempts(
    httpx_mock: HTTPXMock, client: BlizzardClient, clock: FakeClock
) -> None:
    add_token(httpx_mock)
    for _ in range(3):
        httpx_mock.add_response(url=status_url(), status_code=502)
    with pytest.raises(BlizzardServerError) as info:
        fetch_status(client)
    assert info.value.http_status == 502 and info.value.namespace == "profile-us"
    assert len([r for r in httpx_mock.get_requests() if r.method == "GET"]) == 3


def test_429_waits_about_a_second_and_costs_no_attempt(
    httpx_mock: HTTPXMock, client: BlizzardClient, clock: FakeClock
) -> None:
    body = {"code": 429, "type": "BLZWEBAPI00000429", "detail": "Too Many Requests"}
    add_token(httpx_mock)
    for _ in range(2):
        httpx_mock.add_response(url=status_url(), status_code=429, json=body)
    httpx_mock.add_response(url=status_url(), status_code=503)
    httpx_mock.add_response(url=status_url(), status_code=503)
    httpx_mock.add_response(url=status_url(), json=STATUS_OK)
    fetch_status(client)  # 2 x 429 + 2 x 503 + success: 3 attempts counted
    assert all(1.0 <= s <= 1.2 for s in clock.sleeps[:2])


def test_404_is_not_retried(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(
        url=status_url(), status_code=404, content=sample("error_404_not_found.json")
    )
    with pytest.raises(BlizzardNotFound, match="404 Not Found"):
        fetch_status(client)
    assert len(httpx_mock.get_requests()) == 2


def test_timeouts_are_retried_then_raised(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    add_token(httpx_mock)
    for _ in range(3):
        httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=status_url())
    with pytest.raises(BlizzardTransportError, match="ReadTimeout"):
        fetch_status(client)


def test_every_call_has_a_timeout(httpx_mock: HTTPXMock) -> None:
    client = BlizzardClient(make_settings(blizzard_timeout_seconds=2.5))
    add_token(httpx_mock)
    httpx_mock.add_response(url=status_url(), json={"id": 1, "is_valid": True})
    fetch_status(client)
    for sent in httpx_mock.get_requests():  # the token's request and the API's
        assert sent.extensions["timeout"] == {
            "connect": 5.0,
            "read": 2.5,
            "write": 2.5,
            "pool": 2.5,
        }


def test_conditional_request_304(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    add_token(httpx_mock)
    stamp = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    httpx_mock.add_response(
        url=status_url(),
        status_code=304,
        headers={"Last-Modified": "Sun, 01 Nov 2026 12:00:00 GMT"},
    )
    result = fetch_status(client, if_modified_since=stamp)
    assert result.not_modified and result.data is None  # type: ignore[attr-defined]
    assert (
        httpx_mock.get_requests()[1].headers["If-Modified-Since"] == "Sun, 01 Nov 2026 12:00:00 GMT"
    )


def test_last_modified_is_returned(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(
        url=status_url(), json=STATUS_OK, headers={"Last-Modified": "Mon, 02 Nov 2026 08:30:00 GMT"}
    )
    result = fetch_status(client)
    assert result.last_modified == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)  # type: ignore[attr-defined]


def test_request_scope_counts_every_send(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=status_url(), status_code=503)
    httpx_mock.add_response(url=status_url(), json=STATUS_OK)
    with request_scope() as counter:
        fetch_status(client)
    assert counter.count == 3  # token + failed attempt + success


def test_errors_carry_no_secret(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    httpx_mock.add_response(status_code=401, json={"code": 401})
    with pytest.raises(BlizzardUnauthorized) as info:
        client.fetch(ep.ACCOUNT_PROFILE, region=Region.US, user_token="user-secret-token")
    assert "user-secret-token" not in str(info.value) and "test-secret" not in str(info.value)


class CountingLimiter:
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self) -> None:
        self.acquired += 1


def test_api_requests_spend_the_budget_and_token_requests_do_not(
    httpx_mock: HTTPXMock, settings: Settings, clock: FakeClock
) -> None:
    limiter = CountingLimiter()
    client = BlizzardClient(settings, limiter=limiter, sleep=clock.sleep, clock=clock)
    add_token(httpx_mock, "stale")
    httpx_mock.add_response(url=status_url(), status_code=401, json={"code": 401})
    add_token(httpx_mock, "fresh")
    httpx_mock.add_response(url=status_url(), json=STATUS_OK)
    fetch_status(client)
    assert len(httpx_mock.get_requests()) == 4
    assert limiter.acquired == 2  # the refused request and the one sent again


def test_app_token_is_not_renewed_twice(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    add_token(httpx_mock, "stale")
    httpx_mock.add_response(url=status_url(), status_code=401, json={"code": 401})
    add_token(httpx_mock, "fresh")
    httpx_mock.add_response(url=status_url(), status_code=401, json={"code": 401})
    with pytest.raises(BlizzardUnauthorized):
        fetch_status(client)
    methods = [r.method for r in httpx_mock.get_requests()]
    assert methods == ["POST", "GET", "POST", "GET"]  # a 401 is not retried beyond that


def test_probe_is_one_request_past_an_open_breaker(
    httpx_mock: HTTPXMock, settings: Settings, clock: FakeClock
) -> None:
    class OpenBreaker(NoBreaker):
        def __init__(self) -> None:
            self.reports: list[bool] = []

        def check(self) -> None:
            raise AssertionError("a probe does not ask the breaker")

        def record(self, ok: bool, error: str | None = None) -> None:
            self.reports.append(ok)

    breaker = OpenBreaker()
    client = BlizzardClient(settings, breaker=breaker, sleep=clock.sleep, clock=clock)
    add_token(httpx_mock)
    index = re.compile(re.escape(f"{TEST_API}/data/wow/playable-class/index") + r"\?.*")
    httpx_mock.add_response(url=index, status_code=401)
    httpx_mock.add_response(url=index, status_code=503)
    assert client.probe(Region.US) is True  # any answer below 500, and no renewal
    assert client.probe(Region.US) is False
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=index)
    assert client.probe(Region.US) is False
    assert [r.method for r in httpx_mock.get_requests()] == ["POST", "GET", "GET", "GET"]
    assert breaker.reports == [True, False, False]


def test_a_cookie_battlenet_sets_is_neither_kept_nor_sent(
    httpx_mock: HTTPXMock, client: BlizzardClient
) -> None:
    add_token(httpx_mock)
    body = sample("character_status.json")
    cookie = {"Set-Cookie": "__cf_bm=abc; Path=/"}
    httpx_mock.add_response(url=status_url(), content=body, headers=cookie)
    httpx_mock.add_response(url=status_url(), content=body)
    fetch_status(client)
    fetch_status(client)
    second = httpx_mock.get_requests()[-1]
    assert "cookie" not in second.headers
