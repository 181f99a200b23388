"""Authentication: who calls a function, and the session tokens the functions mint.

claims.py   Caller, Supabase's claims, the credential a request presents
keys.py     signing keys (private JWK) and verification keys (one algorithm each)
jwks.py     the project's JWKS, cached (TTL, bounded refetch on an unknown kid)
tokens.py   minting sessions and verifying JWTs (AuthConfig: what the settings give)
callers.py  Authenticator: request headers -> Caller (secret keys, sessions, legacy keys)
"""

from shared.auth.callers import Authenticator
from shared.auth.claims import (
    AUTHENTICATED,
    LEGACY_ISSUER,
    SERVICE_ROLE,
    Caller,
    bearer_token,
    require_service,
)
from shared.auth.tokens import AuthConfig, mint_service_key, mint_session, mint_user_token

__all__ = [
    "AUTHENTICATED",
    "LEGACY_ISSUER",
    "SERVICE_ROLE",
    "AuthConfig",
    "Authenticator",
    "Caller",
    "bearer_token",
    "mint_service_key",
    "mint_session",
    "mint_user_token",
    "require_service",
]
