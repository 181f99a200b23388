"""Battle.net login (OAuth authorization code with state and PKCE S256, as the OAuth security
BCP asks).

`begin()` counts the start against its client address (LOGIN_STARTS_PER_MINUTE; 429 past it,
nothing written), then stores a random state with its PKCE verifier, an expiry and the hash of
a random browser key, and returns the authorize URL and that key (the handler puts it in an HttpOnly
cookie, so the state is bound to the browser that started the login). `complete()` consumes
the state (single use, only with the same browser's key), exchanges the code, reads /userinfo,
upserts the user with the token encrypted, queues the first profile sync (one SQL function, one
transaction) and mints the user's session JWT.

`redirect_to` is stored as its origin (which must be allowed) plus a path and query of at most
512 characters; one that does not parse as an absolute http(s) URL is a 400. Login states are
never cleaned on the request path: an expired one is not found, and pg_cron deletes them by
their indexed expiry in bounded batches (`prune_oauth_states`).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from shared.auth import AuthConfig, mint_session
from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import Region
from shared.crypto import TokenCipher
from shared.db.limits import LimitStore
from shared.db.queue import Queue
from shared.db.users import BrowserMismatch, UserStore
from shared.errors import BadRequest, BlizzardHTTPError, TooManyRequests
from shared.settings import Settings
from shared.urls import split_url

SCOPES = "openid wow.profile"
STATE_TTL = timedelta(minutes=10)
MAX_REDIRECT_BYTES = 2048  # what is read at all
MAX_REDIRECT_PATH = 512  # what is stored after the origin: path and query
#: What `begin()` hands out as a state (token_urlsafe(32): 43 characters).
STATE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
#: The browser key's cookie: `__Host-` (Secure, Path=/, no Domain) when the callback is https;
#: over plain http (local) a host-only cookie without the prefix, which browsers would refuse.
COOKIE_NAME = "guild_sync_login"
SECURE_COOKIE_NAME = "__Host-" + COOKIE_NAME


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def browser_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class LoginCookie:
    """Where the browser keeps its login key: HttpOnly, SameSite=Lax, Path=/, for the state's
    lifetime."""

    name: str
    secure: bool
    max_age: int = int(STATE_TTL.total_seconds())


@dataclass(frozen=True)
class LoginStarted:
    authorize_url: str
    browser_key: str  # the cookie's value; only its hash is stored


@dataclass(frozen=True)
class LoginResult:
    user: dict[str, Any]
    access_token: str
    expires_at: int
    redirect_to: str | None

    def as_json(self) -> dict[str, Any]:
        return {"user": self.user, "accessToken": self.access_token, "expiresAt": self.expires_at}


class LoginService:
    def __init__(
        self,
        settings: Settings,
        client: BlizzardClient,
        users: UserStore,
        limits: LimitStore,
        cipher: TokenCipher,
        auth: AuthConfig | None = None,
    ) -> None:
        self.settings = settings
        self.auth = auth or settings.auth
        self.client = client
        self.users = users
        self.limits = limits
        self.cipher = cipher

    @property
    def cookie(self) -> LoginCookie:
        secure = urlsplit(self.settings.oauth_redirect_uri).scheme == "https"
        return LoginCookie(SECURE_COOKIE_NAME if secure else COOKIE_NAME, secure)

    def check_redirect(self, redirect_to: str | None) -> str | None:
        """The allowed origin plus path and query (at most MAX_REDIRECT_PATH characters; no
        fragment, no credentials); BadRequest for anything that does not parse or fit."""
        if redirect_to is None:
            return None
        if len(redirect_to.encode()) > MAX_REDIRECT_BYTES:
            raise BadRequest(f"redirect_to is longer than {MAX_REDIRECT_BYTES} bytes")
        if any(unicodedata.category(c) == "Cc" for c in redirect_to):
            raise BadRequest("redirect_to must not contain control characters")
        parts = split_url(redirect_to, "redirect_to")
        host, port = parts.hostname, parts.port
        if parts.scheme not in ("http", "https") or not parts.netloc or not host:
            raise BadRequest("redirect_to must be an absolute http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise BadRequest("redirect_to must not carry credentials")
        allowed = [o.lower() for o in self.settings.allowed_redirect_origins]
        netloc = f"[{host}]" if ":" in host else host
        found = f"{parts.scheme.lower()}://{netloc}" + (f":{port}" if port is not None else "")
        if found not in allowed:
            raise BadRequest(
                f"redirect_to {found} is not allowed; allowed: "
                f"{', '.join(allowed) or 'none (set OAUTH_ALLOWED_REDIRECTS)'}"
            )
        rest = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if len(rest) > MAX_REDIRECT_PATH:
            raise BadRequest(
                f"redirect_to's path and query are longer than {MAX_REDIRECT_PATH} characters"
            )
        return found + rest

    def begin(self, redirect_to: str | None, region: Region, address: str) -> LoginStarted:
        """Store a state bound to a new browser key; return the Battle.net authorize URL to
        redirect to and the key for the browser's cookie. `address` is the client's as the
        platform's proxy saw it: its login starts are limited per minute."""
        redirect_to = self.check_redirect(redirect_to)
        limit = self.settings.login_starts_per_minute
        taken = self.limits.login_start_take(address, limit)
        if not taken.ok:
            raise TooManyRequests(
                f"at most {limit} login starts a minute from one address; try again later",
                retry_after=taken.retry_after,
            )
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        browser_key = secrets.token_urlsafe(32)
        self.users.save_oauth_state(
            state=state,
            code_verifier=verifier,
            redirect_to=redirect_to,
            region=region.value,
            browser_hash=browser_hash(browser_key),
            expires_at=datetime.now(UTC) + STATE_TTL,
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": self.settings.oauth_redirect_uri,
                "scope": SCOPES,
                "state": state,
                "code_challenge": pkce_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return LoginStarted(f"{self.client.oauth_url(region)}/authorize?{query}", browser_key)

    def complete(
        self, code: str | None, state: str | None, error: str | None, browser_key: str | None
    ) -> LoginResult:
        if not state:
            raise BadRequest("the callback has no state")
        if not STATE_PATTERN.fullmatch(state):  # never reaches the database (NUL, 2 KB junk)
            raise BadRequest("unknown, expired or already used login state; start the login again")
        if not browser_key:
            raise BadRequest(
                "the login cookie is missing: start the login again in this browser, on the "
                "callback's host, with cookies allowed"
            )
        stored = self.users.consume_login_state(state, browser_hash(browser_key))
        if stored is None:
            raise BadRequest("unknown, expired or already used login state; start the login again")
        if isinstance(stored, BrowserMismatch):
            raise BadRequest(
                "this login was started in another browser (the login cookie does not match); "
                "start the login again"
            )
        if error:
            reason = "".join(c for c in error[:100] if unicodedata.category(c) != "Cc")
            raise BadRequest(f"Battle.net login was not completed: {reason}")
        if not code:
            raise BadRequest("the callback has no code")
        region = Region.parse(stored.region)
        try:
            token = self.client.exchange_code(
                code, self.settings.oauth_redirect_uri, stored.code_verifier, region
            )
        except BlizzardHTTPError as exc:
            if exc.http_status is not None and 400 <= exc.http_status < 500:
                raise BadRequest("Battle.net rejected the authorization code") from None
            raise
        info = self.client.userinfo(token.access_token, region)
        sealed = self.cipher.encrypt(token.access_token, associated=str(info.id))
        expires = datetime.now(UTC) + timedelta(seconds=token.expires_in)
        user = self.users.upsert_login(
            battlenet_id=info.id,
            battletag=info.battletag,
            region=region.value,
            ciphertext=sealed.ciphertext,
            key_id=sealed.key_id,
            expires_at=expires.isoformat(),
            scopes=(token.scope or SCOPES).split(),
            sync_queue=Queue.CHARACTER_SYNC.value,
        )
        jwt, expires_at = mint_session(self.auth, user.id, self.settings.session_ttl_seconds)
        return LoginResult(user.as_json(), jwt, expires_at, stored.redirect_to)
