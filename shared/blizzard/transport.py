"""The single send to Battle.net: every request, API or OAuth host, leaves through
`Transport.send`, and its errors become the exception tree of `shared.errors` here.

The send stands on httpx's transport (its connection pool), not on an `httpx.Client`: the
client's layer (URL merging, cookies, redirects, event hooks, its own auth driver) costs more
CPU per request than the connection pool under it, and none of it is wanted here. What the
send keeps of it, it does itself, in this file:
- every request carries the timeout (`BLIZZARD_TIMEOUT_SECONDS` to read, `CONNECT_TIMEOUT`);
- headers: `Accept`, `Accept-Encoding` (gzip, deflate) and the app's `User-Agent`; no cookie
  is kept or sent (Battle.net's API is stateless); a redirect is an answer, never followed;
- the caller's `httpx.Auth` flow (a bearer token; the app's token, renewed once on 401) is
  driven here, so the hooks wrap each request the flow sends;
- every response is read whole and its connection given back before the send returns.

Around each request actually sent (including one an auth flow sends again after renewing its
token) the send
- passes the circuit breaker (an API request only; a probe passes it while it is open),
- takes a token from the rate limiter (the budget in Postgres; an API request only: OAuth-host
  calls such as the token and userinfo never wait for it),
- counts the request in the caller's `request_scope`,
- reports to the breaker whether Battle.net answered (any status below 500) or failed,
- logs one line with the status and latency.

Retries are not done here: they wrap whole calls in `shared.blizzard.retry`.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Mapping
from typing import Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.blizzard.breaker import Breaker
from shared.blizzard.models import BlizzardErrorBody
from shared.blizzard.regions import Region
from shared.blizzard.scope import count_request
from shared.errors import BlizzardResponseError, BlizzardTransportError, blizzard_error_for_status

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)

CONNECT_TIMEOUT = 5.0  # seconds; the read timeout is BLIZZARD_TIMEOUT_SECONDS
MAX_CONNECTIONS = 64
MAX_KEEPALIVE_CONNECTIONS = 32
HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
    "User-Agent": "guild-sync",
}
NO_AUTH = httpx.Auth()


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Return when one API request may be sent (bounded; raises `BudgetExhausted`)."""


class NoRateLimit:
    def acquire(self) -> None:
        return None


def connection_pool(verify: ssl.SSLContext | bool = True) -> httpx.HTTPTransport:
    """The connections to Battle.net's hosts, kept alive between requests (`verify`: the TLS
    context, when one is shared)."""
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS
    )
    return httpx.HTTPTransport(verify=verify, limits=limits)


class Transport:
    """An httpx transport (`http`: the connection pool, or a mock one in tests) with the
    budget and breaker hooks around each request, every one with `timeout`."""

    def __init__(
        self,
        http: httpx.BaseTransport,
        limiter: RateLimiter,
        breaker: Breaker,
        timeout: httpx.Timeout,
    ) -> None:
        self.http = http
        self.limiter = limiter
        self.breaker = breaker
        self.timeout = timeout
        self._extensions = {"timeout": timeout.as_dict()}

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        api: bool = False,
        probe: bool = False,
    ) -> httpx.Response:
        """Send through `auth`'s flow with the hooks around each request; the answer read.
        `url` carries no query (`params` travel apart), so it is safe to log and to put in
        errors."""
        request = httpx.Request(
            method,
            url,
            params=params,
            headers={**HEADERS, **headers} if headers else HEADERS,
            data=data,
            extensions=self._extensions,
        )
        flow = (auth or NO_AUTH).sync_auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                response = self._send_one(outgoing, method, url, api=api, probe=probe)
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return response
        finally:
            flow.close()

    def _send_one(
        self, request: httpx.Request, method: str, url: str, *, api: bool, probe: bool
    ) -> httpx.Response:
        if api:
            if not probe:
                self.breaker.check()
            self.limiter.acquire()
        count_request()
        started = time.monotonic()
        try:
            response = self.http.handle_request(request)
            try:
                response.read()
            finally:
                response.close()
        except httpx.TransportError as exc:
            _log_send(logging.WARNING, method, url, type(exc).__name__, started)
            if api:
                self.breaker.record(False, type(exc).__name__)
            raise BlizzardTransportError(
                f"Battle.net unreachable: {type(exc).__name__} on {method} {url}", url=url
            ) from exc
        response.request = request
        status = response.status_code
        if api:
            failed = status >= 500
            self.breaker.record(not failed, f"HTTP {status}" if failed else None)
        level = logging.WARNING if status >= 500 or status == 429 else logging.INFO
        _log_send(level, method, url, status, started)
        return response


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
