"""Who is calling: the `Caller` a route's view gets, the claims of Supabase's tokens, and the
credentials a request carries.

A user's session carries Supabase Auth's claims: `role: authenticated`, `aud: authenticated`,
`sub` (the user's id), `iss`, `iat`, `exp`. A legacy service-role key is an HS256 JWT with
`role: service_role` (and no `aud`); with the new keys a service caller presents a
`sb_secret_...` API key instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shared.errors import Unauthorized

SERVICE_ROLE = "service_role"
AUTHENTICATED = "authenticated"
#: The issuer of legacy (HS256) keys and sessions.
LEGACY_ISSUER = "supabase"
SECRET_KEY_PREFIX = "sb_secret_"
PUBLISHABLE_KEY_PREFIX = "sb_publishable_"


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


def credential(authorization: str | None, apikey: str | None) -> str:
    """The credential a request presents: `Authorization: Bearer <token or key>`, else an
    `apikey: <key>` header. Unauthorized when there is none."""
    if authorization:
        return bearer_token(authorization)
    apikey = (apikey or "").strip()
    if apikey:
        return apikey
    raise Unauthorized("missing Authorization: Bearer token")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <token>'")
    return token.strip()


def user_caller(claims: dict[str, Any], issuers: frozenset[str]) -> Caller:
    """A user's session: role and audience `authenticated`, the project's issuer, a UUID `sub`.
    (That the user exists is checked by the caller of this.)"""
    if claims.get("role") != AUTHENTICATED:
        raise Unauthorized("the token's role may not call this function")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if AUTHENTICATED not in audiences:
        raise Unauthorized("the token's audience is not 'authenticated'")
    if claims.get("iss") not in issuers:
        raise Unauthorized("the token was not issued by this project")
    try:
        user_id = uuid.UUID(str(claims.get("sub")))
    except ValueError:
        raise Unauthorized("the token has no valid 'sub'") from None
    return Caller(AUTHENTICATED, user_id, claims)


def require_service(caller: Caller) -> Caller:
    """Operator functions take the service credential only: any other token is the wrong key."""
    if not caller.is_service:
        raise Unauthorized("this function needs the service-role key")
    return caller
