"""`LoginService` over the in-memory repositories, Battle.net's OAuth at the HTTP boundary
(pytest-httpx): the state is single use and bound to its browser, the PKCE verifier goes with
the code, the user is upserted with the token sealed and the first sync queued, and a refused
start or callback writes nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpx import HTTPXMock

from shared.auth.tokens import TokenVerifier
from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import Region
from shared.crypto import TokenCipher
from shared.errors import BadRequest, TooManyRequests
from shared.services.login import LoginService, browser_hash, pkce_challenge
from shared.settings import Settings
from tests.conftest import TEST_OAUTH
from tests.fakes import Fakes

TOKEN = f"{TEST_OAUTH}/token"
USERINFO = f"{TEST_OAUTH}/userinfo"
PAGE = "http://localhost:3000/after?tab=1"


@pytest.fixture
def login(
    settings: Settings, client: BlizzardClient, fakes: Fakes, cipher: TokenCipher
) -> LoginService:
    return LoginService(settings, client, fakes.users, fakes.limits, cipher)


def battlenet_answers(httpx_mock: HTTPXMock, account_id: int = 4242) -> None:
    httpx_mock.add_response(
        method="POST", url=TOKEN,
        json={"access_token": "user-token", "expires_in": 86399, "scope": "openid wow.profile"},
    )  # fmt: skip
    httpx_mock.add_response(
        url=USERINFO, json={"sub": str(account_id), "id": account_id, "battletag": "Thrall#1"}
    )


def started_state(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_begin_stores_a_state_with_its_verifier_bound_to_the_browser(
    login: LoginService, fakes: Fakes
) -> None:
    started = login.begin(PAGE, Region.EU, "10.0.0.1")
    query = started_state(started.authorize_url)
    stored = fakes.db.oauth_states[query["state"]]
    assert query["code_challenge"] == pkce_challenge(stored["codeVerifier"])
    assert query["code_challenge_method"] == "S256" and query["scope"] == "openid wow.profile"
    assert stored["browserHash"] == browser_hash(started.browser_key)
    assert started.browser_key not in str(stored)  # only its hash is kept
    assert stored["region"] == "eu" and stored["redirectTo"] == PAGE


def test_complete_upserts_the_user_seals_the_token_and_queues_the_first_sync(
    login: LoginService, fakes: Fakes, cipher: TokenCipher, settings: Settings,
    httpx_mock: HTTPXMock,
) -> None:  # fmt: skip
    battlenet_answers(httpx_mock)
    started = login.begin(PAGE, Region.US, "10.0.0.1")
    state = started_state(started.authorize_url)["state"]
    result = login.complete("the-code", state, None, started.browser_key)
    exchange = httpx_mock.get_requests(url=TOKEN)[0]
    form = parse_qs(exchange.content.decode())
    verifier = form["code_verifier"][0]
    assert pkce_challenge(verifier) == started_state(started.authorize_url)["code_challenge"]
    assert form["code"] == ["the-code"]
    user_id = result.user["id"]
    assert result.user == {"id": user_id, "battlenetId": 4242, "battletag": "Thrall#1",
                           "region": "us"}  # fmt: skip
    assert result.redirect_to == PAGE
    _, claims = TokenVerifier(settings.auth).claims(result.access_token)
    assert claims["sub"] == user_id and claims["exp"] == result.expires_at
    token = fakes.db.tokens[user_id]
    assert "user-token" not in token.ciphertext
    assert cipher.decrypt(token.ciphertext, associated="4242") == "user-token"
    [first] = fakes.db.queues["character_sync"].values()
    assert first.message == {"type": "profile_sync", "userId": user_id, "gameVersion": "retail",
                             "reason": "login"}  # fmt: skip
    with pytest.raises(BadRequest, match="already used"):  # single use
        login.complete("the-code", state, None, started.browser_key)


def test_a_second_login_updates_the_same_user_and_auto_sync_off_queues_nothing(
    login: LoginService, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    ids = []
    for auto_sync in ("on_login", "off"):
        if ids:
            fakes.users.set_sync_preferences(ids[0], auto_sync, ["retail"])
        battlenet_answers(httpx_mock)
        started = login.begin(None, Region.US, "10.0.0.1")
        state = started_state(started.authorize_url)["state"]
        ids.append(login.complete("code", state, None, started.browser_key).user["id"])
    assert ids[0] == ids[1] and len(fakes.db.users) == 1
    assert len(fakes.db.queues["character_sync"]) == 1  # only the first login's sync


def test_another_browser_cannot_complete_and_the_state_stays(
    login: LoginService, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    started = login.begin(None, Region.US, "10.0.0.1")
    state = started_state(started.authorize_url)["state"]
    with pytest.raises(BadRequest, match="another browser"):
        login.complete("code", state, None, "someone-elses-key")
    assert state in fakes.db.oauth_states and httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    ("code", "state", "error", "key", "message"),
    [
        ("c", None, None, "k", "no state"),
        ("c", "x" * 43, None, "k", "unknown, expired"),
        ("c", "bad state!", None, "k", "unknown, expired"),
        ("c", "x" * 43, None, None, "cookie is missing"),
    ],
)
def test_bad_callbacks_are_400s_that_write_nothing(
    login: LoginService, fakes: Fakes, code: str, state: str | None, error: str | None,
    key: str | None, message: str,
) -> None:  # fmt: skip
    with pytest.raises(BadRequest, match=message):
        login.complete(code, state, error, key)
    assert fakes.db.users == {}


def test_a_refused_login_at_battlenet_consumes_the_state_and_writes_no_user(
    login: LoginService, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    started = login.begin(None, Region.US, "10.0.0.1")
    state = started_state(started.authorize_url)["state"]
    with pytest.raises(BadRequest, match="access_denied"):
        login.complete(None, state, "access_denied", started.browser_key)
    assert fakes.db.oauth_states == {} and fakes.db.users == {}
    started = login.begin(None, Region.US, "10.0.0.1")
    state = started_state(started.authorize_url)["state"]
    httpx_mock.add_response(method="POST", url=TOKEN, status_code=400, json={"error": "invalid"})
    with pytest.raises(BadRequest, match="rejected the authorization code"):
        login.complete("stale", state, None, started.browser_key)
    assert fakes.db.users == {}


def test_login_starts_are_limited_per_address(
    settings: Settings, client: BlizzardClient, fakes: Fakes, cipher: TokenCipher
) -> None:
    limited = settings.model_copy(update={"login_starts_per_minute": 2})
    login = LoginService(limited, client, fakes.users, fakes.limits, cipher)
    for _ in range(2):
        login.begin(None, Region.US, "10.0.0.1")
    with pytest.raises(TooManyRequests) as raised:
        login.begin(None, Region.US, "10.0.0.1")
    assert 1 <= raised.value.retry_after <= 60
    assert len(fakes.db.oauth_states) == 2  # the refused start stored nothing
    login.begin(None, Region.US, "10.0.0.2")  # another address


def test_a_redirect_elsewhere_is_a_400_before_anything_is_counted(
    login: LoginService, fakes: Fakes
) -> None:
    with pytest.raises(BadRequest, match="not allowed"):
        login.begin("https://evil.example/", Region.US, "10.0.0.1")
    assert fakes.db.login_starts == {} and fakes.db.oauth_states == {}
