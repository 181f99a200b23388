"""`Authenticator`: the caller of a request, from the credential it presents.

- `sb_secret_...` (as `apikey` or `Authorization: Bearer`): a service caller when it equals one
  of SUPABASE_SECRET_KEYS (compared in constant time, every key compared); an unknown secret
  key or a `sb_publishable_...` key is refused.
- A JWT: verified by `TokenVerifier`. A legacy `service_role` key (HS256 only) is a service
  caller; a user's session must carry the project's issuer and name a user of the app (one
  indexed lookup, remembered for `user_ttl` seconds).
Anything else is Unauthorized (401).
"""

from __future__ import annotations

import hmac
import threading
import time
import uuid
from collections.abc import Callable

from shared.auth.claims import (
    PUBLISHABLE_KEY_PREFIX,
    SECRET_KEY_PREFIX,
    SERVICE_ROLE,
    Caller,
    credential,
    user_caller,
)
from shared.auth.jwks import JwksCache
from shared.auth.tokens import LEGACY_ALGORITHM, AuthConfig, TokenVerifier, mint_session
from shared.errors import Unauthorized

USER_TTL = 30.0
MAX_REMEMBERED_USERS = 10_000


class Authenticator:
    def __init__(
        self,
        config: AuthConfig,
        user_exists: Callable[[uuid.UUID], bool],
        *,
        jwks: JwksCache | None = None,
        user_ttl: float = USER_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        if jwks is None and config.jwks_url:
            jwks = JwksCache(config.jwks_url)
        self.verifier = TokenVerifier(config, jwks)
        self.user_exists = user_exists
        self.user_ttl = user_ttl
        self.clock = clock
        self._known: dict[uuid.UUID, float] = {}
        self._lock = threading.Lock()

    def mint_session(self, user_id: uuid.UUID, ttl_seconds: int) -> tuple[str, int]:
        return mint_session(self.config, user_id, ttl_seconds)

    def caller(self, authorization: str | None, apikey: str | None = None) -> Caller:
        """Who presents the request's credential (the `Authorization` header, else `apikey`);
        Unauthorized otherwise."""
        presented = credential(authorization, apikey)
        if presented.startswith("sb_"):
            return self.api_key_caller(presented)
        return self.token_caller(presented)

    def api_key_caller(self, key: str) -> Caller:
        if key.startswith(PUBLISHABLE_KEY_PREFIX):
            raise Unauthorized("a publishable key is not a service credential")
        if not key.startswith(SECRET_KEY_PREFIX):
            raise Unauthorized("not a Supabase API key")
        matched = False
        for known in self.config.secret_keys:
            matched |= hmac.compare_digest(key.encode(), known.encode())
        if not matched:
            raise Unauthorized("the secret key is not one of this project's")
        return Caller(SERVICE_ROLE, None, {"role": SERVICE_ROLE})

    def token_caller(self, token: str) -> Caller:
        algorithm, claims = self.verifier.claims(token)
        if claims.get("role") == SERVICE_ROLE:
            if algorithm != LEGACY_ALGORITHM:
                raise Unauthorized("service callers present a secret key")
            return Caller(SERVICE_ROLE, None, claims)
        caller = user_caller(claims, self.config.issuers(algorithm))
        assert caller.user_id is not None
        if not self._known_user(caller.user_id):
            raise Unauthorized("the token's user is not a user of this app")
        return caller

    def _known_user(self, user_id: uuid.UUID) -> bool:
        now = self.clock()
        with self._lock:
            seen = self._known.get(user_id)
        if seen is not None and now - seen < self.user_ttl:
            return True
        if not self.user_exists(user_id):
            return False
        with self._lock:
            if len(self._known) >= MAX_REMEMBERED_USERS:
                self._known.clear()
            self._known[user_id] = now
        return True
