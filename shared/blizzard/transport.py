"""The single send to Battle.net: every request, API or OAuth host, leaves through
`Transport.send`, and its errors become the exception tree of `shared.errors` here.

Around each request actually sent (including one an auth flow sends again after renewing its
token) the send
- passes the circuit breaker (an API request only; a probe passes it while it is open),
- takes a token from the rate limiter (the budget in Postgres; an API request only: OAuth-host
  calls such as the token and userinfo never wait for it),
- counts the request in the caller's `request_scope`,
- reports to the breaker whether Battle.net answered (any status below 500) or failed,
- logs one line with the status and latency.

The timeout is the `httpx.Client`'s (every call has one). Retries are not done here: they
wrap whole calls in `shared.blizzard.retry`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.blizzard.breaker import Breaker
from shared.blizzard.models import BlizzardErrorBody
from shared.blizzard.regions import Region
from shared.blizzard.scope import count_request
from shared.errors import BlizzardResponseError, BlizzardTransportError, blizzard_error_for_status

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Return when one API request may be sent (bounded; raises `BudgetExhausted`)."""


class NoRateLimit:
    def acquire(self) -> None:
        return None


class Transport:
    """The `httpx.Client` with the budget and breaker hooks around each request."""

    def __init__(self, http: httpx.Client, limiter: RateLimiter, breaker: Breaker) -> None:
        self.http = http
        self.limiter = limiter
        self.breaker = breaker

    def send(
        self,
        method: str,
        url: str,
        *,
        auth: httpx.Auth | None = None,
        api: bool = False,
        probe: bool = False,
        **kw: Any,
    ) -> httpx.Response:
        """Send through `auth`'s flow with the hooks around each request. `url` carries no
        query (params travel in `kw`), so it is safe to log and to put in errors."""
        meter = _Meter(self, auth or httpx.Auth(), method, url, api=api, probe=probe)
        try:
            return self.http.request(method, url, auth=meter, **kw)
        except httpx.TransportError as exc:
            _log_send(logging.WARNING, method, url, type(exc).__name__, meter.started)
            if api:
                self.breaker.record(False, type(exc).__name__)
            raise BlizzardTransportError(
                f"Battle.net unreachable: {type(exc).__name__} on {method} {url}", url=url
            ) from exc


class _Meter(httpx.Auth):
    """Wraps an auth flow: the send's hooks before and after each request the flow yields."""

    def __init__(
        self,
        transport: Transport,
        inner: httpx.Auth,
        method: str,
        url: str,
        *,
        api: bool,
        probe: bool,
    ) -> None:
        self._transport = transport
        self._inner = inner
        self._method = method
        self._url = url
        self._api = api
        self._probe = probe
        self.started = time.monotonic()  # of the request in flight

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self._inner.sync_auth_flow(request)
        outgoing = next(flow)
        while True:
            self._before()
            response = yield outgoing
            self._after(response)
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    def _before(self) -> None:
        if self._api:
            if not self._probe:
                self._transport.breaker.check()
            self._transport.limiter.acquire()
        count_request()
        self.started = time.monotonic()

    def _after(self, response: httpx.Response) -> None:
        status = response.status_code
        if self._api:
            failed = status >= 500
            self._transport.breaker.record(not failed, f"HTTP {status}" if failed else None)
        level = logging.WARNING if status >= 500 or status == 429 else logging.INFO
        _log_send(level, self._method, self._url, status, self.started)


def raise_for_status(response: httpx.Response, url: str, region: Region, ns: str | None) -> None:
    """Any status from 400 up as the `BlizzardHTTPError` subclass for it, with Battle.net's
    `detail` (never a token) and the call's context."""
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


def parse(model: type[T], response: httpx.Response, url: str, region: Region) -> T:
    """The body as `model`, or `BlizzardResponseError` when it does not fit."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise BlizzardResponseError(
            f"Battle.net answer from {url} did not parse", url=url, region=region
        ) from exc


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
