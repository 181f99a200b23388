"""Battle.net login (OAuth authorization code with state and PKCE S256).

`begin()` stores a random state with its PKCE verifier and an expiry and returns the authorize
URL. `complete()` consumes the state (single use), exchanges the code, reads /userinfo, upserts
the user with the token encrypted, queues the first profile sync (one SQL function, one
transaction) and mints the user's session JWT.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from shared.auth import mint_user_token
from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import Region
from shared.crypto import TokenCipher
from shared.db.repository import Repository
from shared.errors import BadRequest, BlizzardHTTPError
from shared.jobs.queues import Queue
from shared.settings import Settings

SCOPES = "openid wow.profile"
STATE_TTL = timedelta(minutes=10)


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


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
        self, settings: Settings, client: BlizzardClient, repo: Repository, cipher: TokenCipher
    ) -> None:
        self.settings = settings
        self.client = client
        self.repo = repo
        self.cipher = cipher

    def check_redirect(self, redirect_to: str | None) -> str | None:
        if redirect_to is None:
            return None
        parts = urlsplit(redirect_to)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadRequest("redirect_to must be an absolute http(s) URL")
        allowed = [o.lower() for o in self.settings.allowed_redirect_origins]
        if origin(redirect_to) not in allowed:
            raise BadRequest(
                f"redirect_to {origin(redirect_to)} is not allowed; allowed: {', '.join(allowed)}"
            )
        return redirect_to

    def begin(self, redirect_to: str | None, region: Region) -> str:
        """Store a state and return the Battle.net authorize URL to redirect to."""
        redirect_to = self.check_redirect(redirect_to)
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        self.repo.save_oauth_state(
            {
                "state": state,
                "code_verifier": verifier,
                "redirect_to": redirect_to,
                "region": region.value,
                "expires_at": (datetime.now(UTC) + STATE_TTL).isoformat(),
            }
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
        return f"{self.client.oauth_url(region)}/authorize?{query}"

    def complete(self, code: str | None, state: str | None, error: str | None) -> LoginResult:
        if not state:
            raise BadRequest("the callback has no state")
        stored = self.repo.consume_oauth_state(state)
        if stored is None:
            raise BadRequest("unknown, expired or already used login state; start the login again")
        if error:
            raise BadRequest(f"Battle.net login was not completed: {error}")
        if not code:
            raise BadRequest("the callback has no code")
        region = Region.parse(stored["region"])
        try:
            token = self.client.exchange_code(
                code, self.settings.oauth_redirect_uri, stored["codeVerifier"], region
            )
        except BlizzardHTTPError as exc:
            if exc.http_status is not None and 400 <= exc.http_status < 500:
                raise BadRequest("Battle.net rejected the authorization code") from None
            raise
        info = self.client.userinfo(token.access_token, region)
        sealed = self.cipher.encrypt(token.access_token, associated=str(info.id))
        expires = datetime.now(UTC) + timedelta(seconds=token.expires_in)
        user = self.repo.upsert_login(
            battlenet_id=info.id,
            battletag=info.battletag,
            region=region.value,
            ciphertext=sealed.ciphertext,
            key_id=sealed.key_id,
            expires_at=expires.isoformat(),
            scopes=(token.scope or SCOPES).split(),
            sync_queue=Queue.CHARACTER_SYNC.value,
        )
        jwt, expires_at = mint_user_token(
            uuid.UUID(user["id"]),
            self.settings.supabase_jwt_secret.get_secret_value(),
            self.settings.session_ttl_seconds,
        )
        return LoginResult(user, jwt, expires_at, stored.get("redirectTo"))
