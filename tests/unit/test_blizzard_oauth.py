"""The OAuth host (pytest-httpx): client credentials and code exchange with HTTP Basic client
auth, userinfo with the user's token; what is retried and what never is."""

from __future__ import annotations

import pytest
from pytest_httpx import HTTPXMock

from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import Region
from shared.errors import BlizzardResponseError, BlizzardServerError, BlizzardUnauthorized
from shared.settings import Settings
from tests.conftest import TEST_OAUTH
from tests.fakes import FakeClock
from tests.fakes.battlenet import TOKEN_URL, add_token

USERINFO_URL = f"{TEST_OAUTH}/userinfo"


@pytest.fixture
def client(settings: Settings) -> BlizzardClient:
    clock = FakeClock()
    return BlizzardClient(settings, sleep=clock.sleep, clock=clock)


def test_client_credentials_use_basic_auth_and_are_retried(
    httpx_mock: HTTPXMock, client: BlizzardClient
) -> None:
    httpx_mock.add_response(method="POST", url=TOKEN_URL, status_code=503)
    add_token(httpx_mock, "app-token", expires_in=600)
    token = client.oauth.client_credentials(Region.US)
    assert (token.access_token, token.expires_in) == ("app-token", 600)
    requests = httpx_mock.get_requests()
    assert len(requests) == 2 and all(
        r.content == b"grant_type=client_credentials" for r in requests
    )
    assert requests[1].headers["Authorization"].startswith("Basic ")
    assert "test-secret" not in str(requests[1].url)


def test_oauth_code_exchange_uses_basic_auth_and_is_not_retried(
    httpx_mock: HTTPXMock, client: BlizzardClient
) -> None:
    httpx_mock.add_response(method="POST", url=TOKEN_URL, status_code=503)
    with pytest.raises(BlizzardServerError):
        client.exchange_code("code-1", "http://cb", "verifier", Region.US)
    request = httpx_mock.get_requests()[0]
    assert request.headers["Authorization"].startswith("Basic ")
    assert b"code_verifier=verifier" in request.content and len(httpx_mock.get_requests()) == 1


def test_userinfo_with_the_users_token(httpx_mock: HTTPXMock, client: BlizzardClient) -> None:
    httpx_mock.add_response(url=USERINFO_URL, json={"sub": "42", "id": 42, "battletag": "A#1"})
    info = client.userinfo("user-token", Region.EU)
    assert (info.id, info.battletag) == (42, "A#1")
    assert httpx_mock.get_requests()[0].headers["Authorization"] == "Bearer user-token"


def test_userinfo_401_is_an_answer_and_a_bad_body_an_error(
    httpx_mock: HTTPXMock, client: BlizzardClient
) -> None:
    httpx_mock.add_response(url=USERINFO_URL, status_code=401, json={"code": 401})
    with pytest.raises(BlizzardUnauthorized):
        client.userinfo("user-token", Region.US)
    httpx_mock.add_response(url=USERINFO_URL, json={"unexpected": True})
    with pytest.raises(BlizzardResponseError, match="did not parse"):
        client.userinfo("user-token", Region.US)
    assert len(httpx_mock.get_requests()) == 2  # neither is retried


def test_a_client_with_fewer_attempts_shares_the_app_token(
    httpx_mock: HTTPXMock, client: BlizzardClient
) -> None:
    add_token(httpx_mock, "shared-token")
    twin = client.with_attempts(1)
    assert twin.app_tokens.for_region(Region.US).token() == "shared-token"
    assert client.app_tokens.for_region(Region.US).token() == "shared-token"
    assert twin.retry.max_attempts == 1 and client.retry.max_attempts == 3
    httpx_mock.add_response(url=USERINFO_URL, status_code=503)
    with pytest.raises(BlizzardServerError):
        twin.userinfo("user-token", Region.US)
    assert len(httpx_mock.get_requests()) == 2  # one token request, one userinfo attempt
