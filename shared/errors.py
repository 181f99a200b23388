"""The one exception tree of Guild Sync, mapped to HTTP in one place (`shared.http`).

    GuildSyncError
    ├── ConfigError               a setting is missing or malformed (fails at start)
    ├── RequestError              the caller's fault: answered with a 4xx
    │   ├── BadRequest            400  bad JSON, wrong types, unknown region/gameVersion
    │   ├── Unauthorized          401  no, wrong or expired Bearer token
    │   ├── Forbidden             403  a valid token without the needed role
    │   ├── NotFound              404  unknown resource, or one of another user
    │   ├── MethodNotAllowed      405  (carries the `Allow` header)
    │   ├── Conflict              409
    │   │   ├── SyncAlreadyRunning    sync_already_running: a sync is active (body: sessionId)
    │   │   └── ReloginRequired       relogin_required: the Battle.net login expired or was
    │   │                             revoked; the user must log in with Battle.net again
    │   └── TooManyRequests       429  too_many_requests: a per-user or per-address limit is
    │                                  reached (carries Retry-After); nothing was written
    ├── BlizzardError             Battle.net failed us (answered with 502); carries
    │   │                         status, url, region, namespace
    │   ├── BlizzardTransportError    timeout, connection refused, ...
    │   ├── BlizzardResponseError     a body that does not parse into its model
    │   └── BlizzardHTTPError         an HTTP error status
    │       ├── BlizzardNotFound      404 (routine: inactive, transferred, no account)
    │       ├── BlizzardUnauthorized  401 (a user token expired or revoked)
    │       ├── BlizzardForbidden     403
    │       ├── BlizzardRateLimited   429
    │       └── BlizzardServerError   5xx
    ├── WaitForBattlenet          503  not sent: wait `retry_after` seconds, don't fail (a job
    │   │                              pauses; a user's call answers 503 with Retry-After)
    │   ├── BudgetExhausted           the client id's budget is spent for now
    │   └── BattlenetUnavailable      Battle.net is out (the circuit breaker is open)
    ├── TokenDecryptionError      a stored Battle.net token cannot be decrypted
    └── DataError                 500  the database failed (driver errors wrapped here; carries
        │                              sqlstate and the statement's name)
        ├── DatabaseUnavailable   503  connection lost or refused, no pooled connection in time,
        │                              a timeout, the server shutting down: try again in a minute
        └── DatabaseSchemaError   500  the schema does not match the code (undefined column,
                                       function or table; permission denied): not transient

Messages never carry secrets: URLs are stored without query strings and token values are
never formatted into a message. A 4xx answer shows the message; a 5xx answer shows only the
class's `public_message` and an error id, and the log line carries the id with the message
(`shared.http.to_response`).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar


class GuildSyncError(Exception):
    """Base of every error the project raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    #: What a 5xx answer says instead of the message (which may carry driver or Battle.net text).
    public_message: ClassVar[str] = "internal error"

    def __init__(
        self,
        message: str,
        *,
        public: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.context = context
        self.public = public or {}  # extra fields safe to show the caller in the error body
        self.headers = headers or {}  # extra response headers (Allow, Retry-After)

    def __str__(self) -> str:
        return self.message


class ConfigError(GuildSyncError):
    code = "config_error"


class RequestError(GuildSyncError):
    status = 400
    code = "bad_request"


class BadRequest(RequestError):
    status = 400
    code = "bad_request"


class Unauthorized(RequestError):
    status = 401
    code = "unauthorized"


class Forbidden(RequestError):
    status = 403
    code = "forbidden"


class NotFound(RequestError):
    status = 404
    code = "not_found"


class MethodNotAllowed(RequestError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, message: str, *, allow: list[str]) -> None:
        super().__init__(message, headers={"Allow": ", ".join(allow)})
        self.allow = allow


class Conflict(RequestError):
    status = 409
    code = "conflict"


class SyncAlreadyRunning(Conflict):
    code = "sync_already_running"

    def __init__(self, session_id: str) -> None:
        super().__init__(
            "a character sync is already running for this user", public={"sessionId": session_id}
        )
        self.session_id = session_id


class ReloginRequired(Conflict):
    code = "relogin_required"

    def __init__(self) -> None:
        super().__init__(
            "the user's Battle.net login has expired or was revoked; log in with Battle.net again"
        )


class TooManyRequests(RequestError):
    """A limit one client cannot get around (DESIGN.md section 5) is reached: try again after
    `retry_after` seconds. Raised before anything is written or any Battle.net call."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, public={"retryAfter": max(1, math.ceil(retry_after))})
        self.retry_after = retry_after


class BlizzardError(GuildSyncError):
    """Battle.net did not give us what we needed."""

    status = 502
    code = "blizzard_error"
    public_message = "Battle.net did not answer as expected; try again in a minute"

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        url: str | None = None,
        region: str | None = None,
        namespace: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, url=url, region=region, namespace=namespace)
        self.http_status = http_status
        self.url = url
        self.region = region
        self.namespace = namespace
        self.body = body

    @property
    def retryable(self) -> bool:
        return False


class BlizzardTransportError(BlizzardError):
    code = "blizzard_unreachable"

    @property
    def retryable(self) -> bool:
        return True


class BlizzardResponseError(BlizzardError):
    code = "blizzard_bad_response"


class BlizzardHTTPError(BlizzardError):
    code = "blizzard_http_error"


class BlizzardNotFound(BlizzardHTTPError):
    code = "blizzard_not_found"


class BlizzardUnauthorized(BlizzardHTTPError):
    code = "blizzard_unauthorized"


class BlizzardForbidden(BlizzardHTTPError):
    code = "blizzard_forbidden"


class BlizzardRateLimited(BlizzardHTTPError):
    code = "blizzard_rate_limited"

    @property
    def retryable(self) -> bool:
        return True


class BlizzardServerError(BlizzardHTTPError):
    code = "blizzard_server_error"

    @property
    def retryable(self) -> bool:
        return True


class WaitForBattlenet(GuildSyncError):
    """A Battle.net request was not sent because it has to wait `retry_after` seconds. Not a
    `BlizzardError`: nothing failed, so nothing may count it as a failure (a job pauses without
    spending an attempt; a user's call answers 503 with Retry-After)."""

    status = 503
    code = "blizzard_unavailable"
    public_message = "Battle.net cannot be called right now; try again after Retry-After seconds"

    def __init__(self, message: str, *, retry_after: float, reason: str | None = None) -> None:
        super().__init__(message, public={"retryAfter": max(1, round(retry_after))})
        self.retry_after = retry_after
        self.reason = reason


class BudgetExhausted(WaitForBattlenet):
    """The client id's budget (this window's, or bulk work's paced share of it) is spent until
    `retry_after` seconds from now."""

    code = "blizzard_budget_spent"


class BattlenetUnavailable(WaitForBattlenet):
    """Battle.net keeps failing: the circuit breaker is open until a probe succeeds."""

    code = "blizzard_unavailable"


class TokenDecryptionError(GuildSyncError):
    code = "token_decryption_failed"


class DataError(GuildSyncError):
    code = "database_error"
    public_message = "the database failed; the error id names the log line with the cause"

    @property
    def sqlstate(self) -> str | None:
        value = self.context.get("sqlstate")
        return str(value) if value else None


class DatabaseUnavailable(DataError):
    status = 503
    code = "database_unavailable"
    public_message = "the database is not available; try again in a minute"


class DatabaseSchemaError(DataError):
    code = "database_schema_error"
    public_message = (
        "the database schema does not match this code (a migration is missing or a grant is "
        "wrong); the error id names the log line with the cause"
    )


#: SQLSTATE classes and codes of a database that is away or overloaded (DatabaseUnavailable):
#: connection exceptions, insufficient resources, operator intervention (shutdown, query
#: canceled by a statement timeout), system errors.
UNAVAILABLE_SQLSTATES = ("08", "53", "57", "58")
#: Syntax error or access rule violation (undefined column, function or table; permission
#: denied), and a feature the server does not have: the schema and the code disagree.
SCHEMA_SQLSTATES = ("42", "0A")


def database_error_for(sqlstate: str | None) -> type[DataError]:
    """The DataError class for a driver error's SQLSTATE (None: the connection failed)."""
    if sqlstate is None or sqlstate.startswith(UNAVAILABLE_SQLSTATES):
        return DatabaseUnavailable
    if sqlstate.startswith(SCHEMA_SQLSTATES):
        return DatabaseSchemaError
    return DataError


def blizzard_error_for_status(status: int) -> type[BlizzardHTTPError]:
    """The exception class for a Battle.net HTTP error status."""
    if status == 404:
        return BlizzardNotFound
    if status == 401:
        return BlizzardUnauthorized
    if status == 403:
        return BlizzardForbidden
    if status == 429:
        return BlizzardRateLimited
    if status >= 500:
        return BlizzardServerError
    return BlizzardHTTPError
