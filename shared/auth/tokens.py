"""JWTs: minting sessions (with the signing key, else the legacy secret) and verifying
tokens, each algorithm only with a key of its kind.

- ES256 / RS256: the key named by the header's `kid`: the signing key's own public half (no
  network call), else the project's JWKS (`JwksCache`). An unknown kid is refused.
- HS256: the legacy SUPABASE_JWT_SECRET, only while one is configured.
- Anything else (`none` included) is refused.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt

from shared.auth.claims import AUTHENTICATED, LEGACY_ISSUER, SERVICE_ROLE
from shared.auth.jwks import JwksCache
from shared.auth.keys import ASYMMETRIC, SigningKey, VerificationKey
from shared.errors import ConfigError, Unauthorized

LEGACY_ALGORITHM = "HS256"
LEEWAY = 5
#: The legacy service-role key's lifetime (as Supabase issues them: years).
SERVICE_KEY_TTL = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class AuthConfig:
    """What authentication needs of the settings (`Settings.auth`)."""

    issuer: str  # the project's: `${SUPABASE_URL}/auth/v1`
    signing_key: SigningKey | None = None
    jwt_secret: str | None = None  # the legacy HS256 secret; None: HS256 refused
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    jwks_url: str | None = None

    def issuers(self, algorithm: str) -> frozenset[str]:
        """Issuers a user token signed with `algorithm` may carry: legacy sessions say
        `supabase` (or the project's URL, as Supabase Auth's own HS256 sessions do)."""
        if algorithm == LEGACY_ALGORITHM:
            return frozenset({LEGACY_ISSUER, self.issuer})
        return frozenset({self.issuer})


def mint_session(config: AuthConfig, user_id: uuid.UUID, ttl_seconds: int) -> tuple[str, int]:
    """A user's session JWT, as Supabase Auth would issue it; returns (token, expires_at)."""
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "role": AUTHENTICATED,
        "aud": AUTHENTICATED,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    key = config.signing_key
    if key is not None:
        token = jwt.encode(
            {**claims, "iss": config.issuer},
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
        )
        return token, now + ttl_seconds
    if config.jwt_secret:
        return mint_user_token(user_id, config.jwt_secret, ttl_seconds)
    raise ConfigError(
        "no way to sign sessions: set SUPABASE_JWT_SIGNING_KEY (or SUPABASE_JWT_SECRET)",
        variable="SUPABASE_JWT_SIGNING_KEY",
    )


def mint_user_token(
    user_id: uuid.UUID, secret: str, ttl_seconds: int, **extra: Any
) -> tuple[str, int]:
    """A legacy (HS256) user session JWT; returns (token, expires_at as epoch seconds)."""
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "role": AUTHENTICATED,
        "aud": AUTHENTICATED,
        "iss": LEGACY_ISSUER,
        "iat": now,
        "exp": now + ttl_seconds,
        **extra,
    }
    return jwt.encode(claims, secret, algorithm=LEGACY_ALGORITHM), now + ttl_seconds


def mint_service_key(secret: str, ttl_seconds: int = SERVICE_KEY_TTL) -> str:
    """A legacy service-role key (HS256 JWT) like the one Supabase issued for a project."""
    now = int(time.time())
    claims = {"role": SERVICE_ROLE, "iss": LEGACY_ISSUER, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=LEGACY_ALGORITHM)


class TokenVerifier:
    def __init__(self, config: AuthConfig, jwks: JwksCache | None = None) -> None:
        self.config = config
        self.jwks = jwks

    def claims(self, token: str) -> tuple[str, dict[str, Any]]:
        """Check the signature (with a key of the token's algorithm) and expiry (`exp`
        required); return (algorithm, claims). Raises Unauthorized."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("the token is not valid") from None
        algorithm = header.get("alg")
        key: Any
        if algorithm == LEGACY_ALGORITHM:
            if not self.config.jwt_secret:
                raise Unauthorized("HS256 tokens are not accepted: sign in again")
            key = self.config.jwt_secret
        elif algorithm in ASYMMETRIC:
            found = self._key(header.get("kid"))
            if found is None:
                raise Unauthorized("the token's signing key is not known")
            if found.algorithm != algorithm:
                raise Unauthorized("the token's algorithm does not match its key")
            key = found.key
        else:
            raise Unauthorized("the token's algorithm is not accepted")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                options={"verify_aud": False, "require": ["exp"]},
                leeway=LEEWAY,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.MissingRequiredClaimError:
            raise Unauthorized("the token has no expiry ('exp')") from None
        except jwt.PyJWTError:
            raise Unauthorized("the token is not valid") from None
        return algorithm, claims

    def _key(self, kid: Any) -> VerificationKey | None:
        if not isinstance(kid, str) or not kid or len(kid) > 200:
            return None
        own = self.config.signing_key
        if own is not None and own.kid == kid:
            return own.public
        return self.jwks.key(kid) if self.jwks is not None else None
