"""The app token as an `httpx.Auth` flow (httpx.MockTransport): cached, renewed a few minutes
before it expires, renewed once on a 401 and not twice; a user's token is never renewed."""

from __future__ import annotations

import httpx
import pytest

from shared.blizzard.auth import TOKEN_RENEW_MARGIN, AppTokenAuth, AppTokens, BearerAuth
from shared.blizzard.models import TokenResponse
from shared.blizzard.regions import Region
from tests.fakes import FakeClock

URL = "https://api.test.invalid/data/wow/playable-class/index"


class TokenHost:
    """A fake OAuth host: hands out token-1, token-2, ... valid for `expires_in` seconds."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.issued: list[str] = []

    def __call__(self) -> TokenResponse:
        token = f"token-{len(self.issued) + 1}"
        self.issued.append(token)
        return TokenResponse(access_token=token, expires_in=self.expires_in)


class Api:
    """A fake API answering the statuses given, in order (then 200), recording the bearer."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.bearers: list[str] = []
        self.http = httpx.Client(transport=httpx.MockTransport(self.answer))

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.bearers.append(request.headers["Authorization"])
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200, json={})

    def get(self, auth: httpx.Auth) -> httpx.Response:
        return self.http.get(URL, auth=auth)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def host() -> TokenHost:
    return TokenHost()


@pytest.fixture
def auth(host: TokenHost, clock: FakeClock) -> AppTokenAuth:
    return AppTokenAuth(host, clock=clock)


def test_token_is_fetched_once_and_reused(host: TokenHost, auth: AppTokenAuth) -> None:
    api = Api()
    for _ in range(3):
        assert api.get(auth).status_code == 200
    assert host.issued == ["token-1"]
    assert api.bearers == ["Bearer token-1"] * 3


def test_token_is_renewed_a_few_minutes_before_it_expires(
    host: TokenHost, auth: AppTokenAuth, clock: FakeClock
) -> None:
    api = Api()
    api.get(auth)
    clock.now += host.expires_in - TOKEN_RENEW_MARGIN - 1  # still outside the margin
    api.get(auth)
    clock.now += 2  # inside it: the token still works, but is renewed now
    api.get(auth)
    assert api.bearers == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert host.issued == ["token-1", "token-2"]


def test_a_401_renews_once_and_sends_again(host: TokenHost, auth: AppTokenAuth) -> None:
    api = Api(401)
    response = api.get(auth)
    assert response.status_code == 200
    assert api.bearers == ["Bearer token-1", "Bearer token-2"]
    assert [r.status_code for r in response.history] == [401]
    assert response.history[0].request.headers["Authorization"] == "Bearer token-1"
    api.get(auth)  # the renewed token is the cached one now
    assert api.bearers[-1] == "Bearer token-2" and host.issued == ["token-1", "token-2"]


def test_a_second_401_is_the_answer(host: TokenHost, auth: AppTokenAuth) -> None:
    api = Api(401, 401, 401)
    response = api.get(auth)
    assert response.status_code == 401
    assert api.bearers == ["Bearer token-1", "Bearer token-2"]  # renewed once, not twice
    assert host.issued == ["token-1", "token-2"]


def test_other_refusals_do_not_renew(host: TokenHost, auth: AppTokenAuth) -> None:
    api = Api(403, 404, 500)
    assert [api.get(auth).status_code for _ in range(3)] == [403, 404, 500]
    assert host.issued == ["token-1"] and len(api.bearers) == 3


def test_invalidate_keeps_a_token_another_thread_already_renewed(
    host: TokenHost, auth: AppTokenAuth
) -> None:
    first = auth.token()
    auth.invalidate(first)
    second = auth.token()
    auth.invalidate(first)  # a late 401 to the old token: the new one stays
    assert auth.token() == second == "token-2" and host.issued == ["token-1", "token-2"]


def test_a_failed_renewal_raises_and_sends_nothing_more(clock: FakeClock) -> None:
    class Refused(Exception):
        pass

    calls: list[int] = []

    def fetch() -> TokenResponse:
        calls.append(1)
        if len(calls) > 1:
            raise Refused("the OAuth host is down")
        return TokenResponse(access_token="token-1")

    api = Api(401)
    with pytest.raises(Refused):
        api.get(AppTokenAuth(fetch, clock=clock))
    assert api.bearers == ["Bearer token-1"]


def test_a_users_token_is_sent_as_it_is_and_its_401_is_the_answer() -> None:
    api = Api(401)
    assert api.get(BearerAuth("user-token")).status_code == 401
    assert api.bearers == ["Bearer user-token"]


def test_regions_sharing_an_oauth_host_share_a_token(clock: FakeClock) -> None:
    asked: list[Region] = []

    def fetch(region: Region) -> TokenResponse:
        asked.append(region)
        return TokenResponse(access_token=f"{region.value}-token")

    tokens = AppTokens(
        fetch, lambda r: "https://cn" if r is Region.CN else "https://oauth", clock=clock
    )
    assert tokens.for_region(Region.EU) is tokens.for_region(Region.US)
    assert tokens.for_region(Region.CN) is not tokens.for_region(Region.US)
    assert tokens.for_region(Region.EU).token() == "eu-token"
    assert tokens.for_region(Region.US).token() == "eu-token"  # the host's, cached
    assert tokens.for_region(Region.CN).token() == "cn-token" and asked == [Region.EU, Region.CN]
