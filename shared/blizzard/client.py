"""The Battle.net HTTP client every function shares.

One `BlizzardClient.fetch()` builds the URL (host and namespace computed in
`shared.blizzard.regions`), authenticates with `Authorization: Bearer` (the app's
client-credentials token from `AppToken`, or a user's token), always sends `locale`,
optionally `If-Modified-Since`, takes a token from the rate limiter, and parses the body
into the endpoint's model. Retries live in exactly one place (`_retrying`): transport
errors and 5xx back off exponentially with jitter; 429 waits about a second and costs no
attempt; any other 4xx is an answer. Every call has a timeout.
"""

from __future__ import annotations

import copy
import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception

from shared.blizzard.endpoints import CLASS_INDEX, Endpoint
from shared.blizzard.models import BlizzardErrorBody, TokenResponse, UserInfo
from shared.blizzard.regions import GameVersion, Region, api_base, namespace, oauth_base
from shared.blizzard.scope import count_request
from shared.breaker import Breaker, NoBreaker
from shared.errors import (
    BlizzardError,
    BlizzardRateLimited,
    BlizzardResponseError,
    BlizzardTransportError,
    BlizzardUnauthorized,
    blizzard_error_for_status,
)
from shared.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)
T_co = TypeVar("T_co")

DEFAULT_MAX_ATTEMPTS = 3  # attempts per call, 429s not counted
MAX_RATE_LIMITED_WAITS = 3  # a bound on 429 waits within one call (the budget prevents them)
RATE_LIMIT_WAIT = 1.0  # seconds, plus jitter
BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0
TOKEN_RENEW_MARGIN = 300.0  # renew an app token this many seconds before it expires


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Return when one API request may be sent (bounded; raises `BudgetExhausted`)."""


class NoRateLimit:
    def acquire(self) -> None:
        return None


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


def http_date(value: datetime) -> str:
    return email.utils.format_datetime(value, usegmt=True)


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


class AppToken:
    """The client-credentials token: cached, renewed a few minutes before it expires, and
    renewed at once when Battle.net answers 401 to it (`invalidate`)."""

    def __init__(self, client: BlizzardClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def get(self, region: Region) -> str:
        base = self._client.oauth_url(region)
        with self._lock:
            cached = self._tokens.get(base)
            if cached and cached[1] - TOKEN_RENEW_MARGIN > self._client.clock():
                return cached[0]
            token = self._client.request_token({"grant_type": "client_credentials"}, region)
            self._tokens[base] = (token.access_token, self._client.clock() + token.expires_in)
            return token.access_token

    def invalidate(self, region: Region, token: str) -> None:
        base = self._client.oauth_url(region)
        with self._lock:
            if self._tokens.get(base, ("", 0.0))[0] == token:
                del self._tokens[base]


class BlizzardClient:
    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.Client | None = None,
        limiter: RateLimiter | None = None,
        breaker: Breaker | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        timeout = httpx.Timeout(settings.blizzard_timeout_seconds, connect=5.0)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self.http = http or httpx.Client(timeout=timeout, limits=limits)
        self.limiter: RateLimiter = limiter or NoRateLimit()
        self.breaker: Breaker = breaker or NoBreaker()
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.clock = clock
        self.app_token = AppToken(self)

    def with_attempts(self, max_attempts: int) -> BlizzardClient:
        """The same client (connections, app token, rate limiter) with another retry budget."""
        twin = copy.copy(self)
        twin.max_attempts = max_attempts
        return twin

    # --- URLs -------------------------------------------------------------------------

    def api_url(self, region: Region) -> str:
        return api_base(self.settings.blizzard_api_url, region)

    def oauth_url(self, region: Region) -> str:
        return oauth_base(self.settings.blizzard_oauth_url, region)

    # --- the game and profile APIs ----------------------------------------------------

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

        def attempt() -> Fetched[T]:
            response = self._authorized_get(url, params, headers, region, ns, user_token)
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

        return self._retrying(attempt)

    def _authorized_get(
        self,
        url: str,
        params: dict[str, str | int],
        headers: dict[str, str],
        region: Region,
        ns: str,
        user_token: str | None,
    ) -> httpx.Response:
        token = user_token or self.app_token.get(region)
        response = self._send("GET", url, params=params, headers=headers, bearer=token, api=True)
        if response.status_code == 401 and user_token is None:
            # The app token was revoked or expired early: renew it once.
            self.app_token.invalidate(region, token)
            token = self.app_token.get(region)
            response = self._send(
                "GET", url, params=params, headers=headers, bearer=token, api=True
            )
        self._raise_for_status(response, url, region, ns)
        return response

    # --- OAuth ------------------------------------------------------------------------

    def request_token(self, form: Mapping[str, str], region: Region) -> TokenResponse:
        """POST /token with HTTP Basic client auth. Not retried beyond transport errors for
        client credentials; an authorization code is single-use, so never retried."""
        url = self.oauth_url(region) + "/token"
        auth = (self.settings.client_id, self.settings.client_secret)

        def attempt() -> TokenResponse:
            response = self._send("POST", url, data=dict(form), auth=auth)
            self._raise_for_status(response, url, region, None)
            return self._parse(TokenResponse, response, url, region)

        if form.get("grant_type") == "client_credentials":
            return self._retrying(attempt)
        return attempt()

    def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str, region: Region
    ) -> TokenResponse:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return self.request_token(form, region)

    def userinfo(self, user_token: str, region: Region) -> UserInfo:
        url = self.oauth_url(region) + "/userinfo"

        def attempt() -> UserInfo:
            response = self._send("GET", url, bearer=user_token)
            self._raise_for_status(response, url, region, None)
            return self._parse(UserInfo, response, url, region)

        return self._retrying(attempt)

    # --- the single send, its errors and its retries -------------------------------------

    def probe(self, region: Region) -> bool:
        """One request past an open circuit breaker (the cheapest there is: the class index):
        True when Battle.net answered. Its result is reported like any other."""
        url = self.api_url(region) + CLASS_INDEX.path
        params: dict[str, str | int] = {
            "namespace": namespace(CLASS_INDEX.kind, region, GameVersion.RETAIL),
            "locale": self.settings.blizzard_api_locale,
        }
        try:
            token = self.app_token.get(region)
            response = self._send("GET", url, params=params, bearer=token, api=True, probe=True)
        except BlizzardError:
            return False
        return response.status_code < 500

    def _send(
        self,
        method: str,
        url: str,
        *,
        bearer: str | None = None,
        api: bool = False,
        probe: bool = False,
        **kw: Any,
    ) -> httpx.Response:
        """The single send. Only API requests (`api`) pass the circuit breaker (a probe
        passes it while open), spend the budget and report to the breaker: OAuth-host calls
        (token, userinfo) are not API requests and never wait for the budget."""
        headers = dict(kw.pop("headers", None) or {})
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        if api:
            if not probe:
                self.breaker.check()
            self.limiter.acquire()
        count_request()
        started = time.monotonic()
        try:
            response = self.http.request(method, url, headers=headers, **kw)
        except httpx.TransportError as exc:
            _log_send(logging.WARNING, method, url, type(exc).__name__, started)
            if api:
                self.breaker.record(False, type(exc).__name__)
            raise BlizzardTransportError(
                f"Battle.net unreachable: {type(exc).__name__} on {method} {url}", url=url
            ) from exc
        if api:
            failed = response.status_code >= 500
            self.breaker.record(not failed, f"HTTP {response.status_code}" if failed else None)
        status = response.status_code
        _log_send(
            logging.WARNING if status >= 500 or status == 429 else logging.INFO,
            method,
            url,
            status,
            started,
        )
        return response

    def _raise_for_status(
        self, response: httpx.Response, url: str, region: Region, ns: str | None
    ) -> None:
        status = response.status_code
        if status < 400:
            return
        try:
            body = BlizzardErrorBody.model_validate_json(response.content)
            detail = body.detail or body.type or ""
        except ValidationError:
            detail = ""
        cls = blizzard_error_for_status(status)
        where = f" ({ns})" if ns else ""
        raise cls(
            f"Battle.net answered {status}{' ' + detail if detail else ''} for {url}{where}",
            http_status=status,
            url=url,
            region=region,
            namespace=ns,
        )

    def _parse(self, model: type[T], response: httpx.Response, url: str, region: Region) -> T:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise BlizzardResponseError(
                f"Battle.net answer from {url} did not parse", url=url, region=region
            ) from exc

    def _retrying(self, attempt: Callable[[], T_co]) -> T_co:
        policy = _RetryPolicy(self.max_attempts)
        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, BlizzardError) and e.retryable),
            stop=policy.stop,
            wait=policy.wait,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(attempt)


class _RetryPolicy:
    """Stop after `max_attempts` failed attempts, not counting 429s (bounded separately);
    wait about a second after a 429, else exponential backoff with full jitter."""

    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts
        self.rate_limited = 0

    def _last_was_429(self, state: RetryCallState) -> bool:
        return state.outcome is not None and isinstance(
            state.outcome.exception(), BlizzardRateLimited
        )

    def stop(self, state: RetryCallState) -> bool:
        if self._last_was_429(state):
            self.rate_limited += 1
            return self.rate_limited >= MAX_RATE_LIMITED_WAITS
        return state.attempt_number - self.rate_limited >= self.max_attempts

    def wait(self, state: RetryCallState) -> float:
        if self._last_was_429(state):
            return RATE_LIMIT_WAIT + random.uniform(0.0, 0.2)
        failures = state.attempt_number - self.rate_limited
        return random.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (failures - 1))) + 0.05


def _log_send(level: int, method: str, url: str, status: int | str, started: float) -> None:
    """One line per Battle.net request: status and latency. `url` never has a query (params
    travel apart) and tokens travel in headers, so nothing secret is written."""
    ms = round((time.monotonic() - started) * 1000, 1)
    fields = {"upstream": "battlenet", "method": method, "url": url, "status": status}
    log.log(
        level,
        "battle.net %s %s -> %s in %.0f ms",
        method,
        url,
        status,
        ms,
        extra={"fields": {**fields, "latencyMs": ms}},
    )
