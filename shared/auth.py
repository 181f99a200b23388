"""Supabase-style JWTs (HS256 with SUPABASE_JWT_SECRET): verify callers, mint user sessions
and the service-role key.

The service-role key carries `role: service_role` (and no `aud`); a user's session carries
`role: authenticated`, `aud: authenticated` and `sub` (the user's id). Every token must carry
`exp`. In production mode the settings refuse the public Supabase CLI secret, so a token signed
with it never verifies there.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from shared.errors import Unauthorized

ALGORITHM = "HS256"
SERVICE_ROLE = "service_role"
AUTHENTICATED = "authenticated"
ISSUER = "supabase"


@dataclass(frozen=True)
class Caller:
    role: str
    user_id: uuid.UUID | None
    claims: dict[str, Any]

    @property
    def is_service(self) -> bool:
        return self.role == SERVICE_ROLE

    @property
    def owner(self) -> uuid.UUID | None:
        """Whose rows the caller may see: their own, or everyone's (None) for the service key."""
        if self.is_service:
            return None
        if self.user_id is None:
            raise Unauthorized("this call needs a user's token or the service-role key")
        return self.user_id


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <token>'")
    return token.strip()


def verify(token: str, secret: str) -> Caller:
    """Check signature and expiry (`exp` required); return who is calling. Raises
    Unauthorized."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"verify_aud": False, "require": ["exp"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired") from None
    except jwt.MissingRequiredClaimError:
        raise Unauthorized("the token has no expiry ('exp')") from None
    except jwt.PyJWTError:
        raise Unauthorized("the token is not valid") from None
    role = claims.get("role")
    if role == SERVICE_ROLE:
        return Caller(SERVICE_ROLE, None, claims)
    if role == AUTHENTICATED:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if AUTHENTICATED not in audiences:
            raise Unauthorized("the token's audience is not 'authenticated'")
        try:
            user_id = uuid.UUID(str(claims.get("sub")))
        except ValueError:
            raise Unauthorized("the token has no valid 'sub'") from None
        return Caller(AUTHENTICATED, user_id, claims)
    raise Unauthorized("the token's role may not call this function")


def require_service(caller: Caller) -> Caller:
    """Operator functions take the service-role key only: any other token is the wrong key."""
    if not caller.is_service:
        raise Unauthorized("this function needs the service-role key")
    return caller


def mint_user_token(
    user_id: uuid.UUID, secret: str, ttl_seconds: int, **extra: Any
) -> tuple[str, int]:
    """A user session JWT; returns (token, expires_at as epoch seconds)."""
    now = int(time.time())
    expires_at = now + ttl_seconds
    claims = {
        "sub": str(user_id),
        "role": AUTHENTICATED,
        "aud": AUTHENTICATED,
        "iss": ISSUER,
        "iat": now,
        "exp": expires_at,
        **extra,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at


def mint_service_key(secret: str, ttl_seconds: int = 10 * 365 * 24 * 3600) -> str:
    """A service-role key like the one Supabase issues for a project."""
    now = int(time.time())
    claims = {"role": SERVICE_ROLE, "iss": ISSUER, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
