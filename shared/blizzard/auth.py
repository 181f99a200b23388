"""Who a Battle.net API request speaks for, as `httpx.Auth` flows.

- `AppTokenAuth`: the app's client-credentials token for one OAuth host. It is cached and
  renewed `TOKEN_RENEW_MARGIN` seconds before it expires; when Battle.net answers 401 to it
  anyway (revoked, or expired early) the flow renews it once and sends the request again; a
  second 401 is the answer. `AppTokens` keeps one per OAuth host, shared by every thread.
- `BearerAuth`: a user's token (or any fixed one). A 401 to it is an answer: only the user
  can renew it, by logging in again.

Fetching a token is an OAuth-host call (`OAuthClient.client_credentials`): it goes through the
single send, but it is not an API request, so it never waits for the budget nor reports to
the circuit breaker. Each request the flow yields is an API request of its own (the send's
hooks spend one budget token on each, the renewed one included).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

import httpx

from shared.blizzard.models import TokenResponse
from shared.blizzard.regions import Region

TOKEN_RENEW_MARGIN = 300.0  # renew an app token this many seconds before it expires


def _bearer(request: httpx.Request, token: str) -> None:
    request.headers["Authorization"] = f"Bearer {token}"


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>`, nothing more."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _bearer(request, self._token)
        yield request


class AppTokenAuth(httpx.Auth):
    """The client-credentials token of one OAuth host: cached, renewed early, renewed once on
    a 401. `fetch` asks the OAuth host for a new one; `clock` is monotonic seconds."""

    requires_response_body = True  # read the 401 (and free its connection) before renewing

    def __init__(
        self,
        fetch: Callable[[], TokenResponse],
        *,
        clock: Callable[[], float] = time.monotonic,
        renew_margin: float = TOKEN_RENEW_MARGIN,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._renew_margin = renew_margin
        self._lock = threading.Lock()  # one renewal at a time; the others wait and reuse it
        self._cached: tuple[str, float] | None = None  # (token, expires at)

    def token(self) -> str:
        """The cached token, or a new one when it is missing or about to expire."""
        with self._lock:
            if self._cached and self._cached[1] - self._renew_margin > self._clock():
                return self._cached[0]
            answer = self._fetch()
            self._cached = (answer.access_token, self._clock() + answer.expires_in)
            return answer.access_token

    def invalidate(self, token: str) -> None:
        """Forget `token` (Battle.net refused it), unless another thread already renewed it."""
        with self._lock:
            if self._cached and self._cached[0] == token:
                self._cached = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        _bearer(request, token)
        response = yield request
        if response.status_code == 401:
            self.invalidate(token)
            # a new request, so the refused one stays as it was sent (in history, in tests)
            again = httpx.Request(
                request.method,
                request.url,
                headers=request.headers.copy(),
                stream=request.stream,
                extensions=request.extensions,
            )
            _bearer(again, self.token())
            yield again


class AppTokens:
    """One `AppTokenAuth` per OAuth host (regions sharing a host share a token).
    `fetch(region)` asks that region's OAuth host for a client-credentials token."""

    def __init__(
        self,
        fetch: Callable[[Region], TokenResponse],
        host: Callable[[Region], str],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._host = host
        self._clock = clock
        self._lock = threading.Lock()
        self._by_host: dict[str, AppTokenAuth] = {}

    def for_region(self, region: Region) -> AppTokenAuth:
        host = self._host(region)
        with self._lock:
            auth = self._by_host.get(host)
            if auth is None:
                auth = AppTokenAuth(lambda: self._fetch(region), clock=self._clock)
                self._by_host[host] = auth
            return auth
