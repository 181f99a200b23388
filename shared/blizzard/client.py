"""The Battle.net client every function shares: the facade over the package.

`BlizzardClient.fetch()` turns an endpoint (a path, a namespace kind, a response model:
`shared.blizzard.endpoints`) into one GET: the URL from the region's host
(`shared.blizzard.regions`), the namespace and `locale`, optionally `If-Modified-Since`
(`dates`), the app's token (`auth.AppTokenAuth`: renewed early, renewed once on 401) or a
user's, and parses the body into the endpoint's model; a 304 is a normal result (`Fetched`).
Each call is retried by the policy of `retry.py` and every request leaves through the single
send of `transport.py` (budget, breaker, timeout, errors). The package docstring maps the rest.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from shared.blizzard.auth import AppTokens, BearerAuth
from shared.blizzard.breaker import Breaker, NoBreaker
from shared.blizzard.dates import http_date, parse_http_date
from shared.blizzard.endpoints import CLASS_INDEX, Endpoint
from shared.blizzard.models import TokenResponse, UserInfo
from shared.blizzard.oauth import OAuthClient
from shared.blizzard.regions import GameVersion, Region, api_base, namespace
from shared.blizzard.retry import DEFAULT_MAX_ATTEMPTS, RetryPolicy
from shared.blizzard.transport import (
    CONNECT_TIMEOUT,
    NoRateLimit,
    RateLimiter,
    Transport,
    connection_pool,
    raise_for_status,
)
from shared.errors import BlizzardError, BlizzardResponseError, BlizzardUnauthorized
from shared.settings import Settings

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """A Battle.net answer: the parsed body, or `not_modified` for a 304."""

    data: T | None
    last_modified: datetime | None
    not_modified: bool = False

    def value(self) -> T:
        if self.data is None:
            raise BlizzardResponseError("no body: the resource was not modified")
        return self.data


def encode_segment(value: object) -> str:
    return quote(str(value), safe="")


def character_segment(name: str) -> str:
    """A character name in a path: Unicode-lowercased, then percent-encoded UTF-8."""
    return encode_segment(name.lower())


class BlizzardClient:
    """Endpoints to requests. `http`, the httpx transport under the send, may be injected
    (tests); `limiter` is the budget and `breaker` the circuit breaker (none by default);
    `max_attempts`, `sleep` and `clock` set the retry policy and the app token's clock."""

    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        breaker: Breaker | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        timeout = httpx.Timeout(settings.blizzard_timeout_seconds, connect=CONNECT_TIMEOUT)
        self.http = http or connection_pool()
        self.limiter: RateLimiter = limiter or NoRateLimit()
        self.breaker: Breaker = breaker or NoBreaker()
        self.transport = Transport(self.http, self.limiter, self.breaker, timeout)
        self.retry = RetryPolicy(max_attempts, sleep)
        self.oauth = OAuthClient(settings, self.transport, self.retry)
        self.app_tokens = AppTokens(self.oauth.client_credentials, self.oauth.base, clock=clock)

    def with_attempts(self, max_attempts: int) -> BlizzardClient:
        """The same client (connections, app tokens, rate limiter, breaker) with another
        retry budget for its calls."""
        twin = copy.copy(self)
        twin.retry = dataclasses.replace(self.retry, max_attempts=max_attempts)
        twin.oauth = OAuthClient(self.settings, self.transport, twin.retry)
        return twin

    def api_url(self, region: Region) -> str:
        return api_base(self.settings.blizzard_api_url, region)

    def oauth_url(self, region: Region) -> str:
        return self.oauth.base(region)

    def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str, region: Region
    ) -> TokenResponse:
        return self.oauth.exchange_code(code, redirect_uri, code_verifier, region)

    def userinfo(self, user_token: str, region: Region) -> UserInfo:
        return self.oauth.userinfo(user_token, region)

    def fetch(
        self,
        endpoint: Endpoint[T],
        *,
        region: Region,
        game_version: GameVersion = GameVersion.RETAIL,
        path: Mapping[str, object] | None = None,
        query: Mapping[str, str | int] | None = None,
        user_token: str | None = None,
        if_modified_since: datetime | None = None,
    ) -> Fetched[T]:
        """GET one endpoint. Raises a `BlizzardError` subclass for anything but 200/304."""
        segments = {
            key: character_segment(str(v)) if key == "name" else encode_segment(v)
            for key, v in (path or {}).items()
        }
        url = self.api_url(region) + endpoint.path.format(**segments)
        ns = namespace(endpoint.kind, region, game_version)
        params: dict[str, str | int] = {
            "namespace": ns,
            "locale": self.settings.blizzard_api_locale,
        }
        params.update(query or {})
        headers = {}
        if if_modified_since is not None:
            headers["If-Modified-Since"] = http_date(if_modified_since)
        if endpoint.user_token and user_token is None:
            raise BlizzardUnauthorized(f"{endpoint.name} needs the user's token", url=url)
        # A user's 401 is an answer; the app's token is renewed once by its flow.
        auth = BearerAuth(user_token) if user_token else self.app_tokens.for_region(region)

        def attempt() -> Fetched[T]:
            response = self.transport.send(
                "GET", url, params=params, headers=headers, auth=auth, api=True
            )
            raise_for_status(response, url, region, ns)
            last_modified = parse_http_date(response.headers.get("Last-Modified"))
            if response.status_code == 304:
                return Fetched(None, last_modified, not_modified=True)
            try:
                data = endpoint.model.model_validate_json(response.content)
            except ValidationError as exc:
                raise BlizzardResponseError(
                    f"Battle.net {endpoint.name} answer did not parse: {exc.error_count()} errors",
                    http_status=response.status_code,
                    url=url,
                    region=region,
                    namespace=ns,
                ) from exc
            return Fetched(data, last_modified)

        return self.retry.run(attempt)

    def probe(self, region: Region) -> bool:
        """One request past an open circuit breaker (the cheapest there is: the class index):
        True when Battle.net answered. Its result is reported like any other."""
        url = self.api_url(region) + CLASS_INDEX.path
        params: dict[str, str | int] = {
            "namespace": namespace(CLASS_INDEX.kind, region, GameVersion.RETAIL),
            "locale": self.settings.blizzard_api_locale,
        }
        try:
            # the cached token as it is: a probe is one request, never a renewal and a retry
            auth = BearerAuth(self.app_tokens.for_region(region).token())
            response = self.transport.send(
                "GET", url, params=params, auth=auth, api=True, probe=True
            )
        except BlizzardError:
            return False
        return response.status_code < 500
