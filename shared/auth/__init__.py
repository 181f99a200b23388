"""Authentication: who calls a function, and the session tokens the functions mint.

claims.py   Caller, Supabase's claims, the credential a request presents
keys.py     signing keys (private JWK) and verification keys (one algorithm each)
jwks.py     the project's JWKS, cached (TTL, bounded refetch on an unknown kid)
tokens.py   minting sessions and verifying JWTs (AuthConfig: what the settings give)
callers.py  Authenticator: request headers -> Caller (secret keys, sessions, legacy keys)

Importing the package loads claims.py alone: the names of the other modules load on first
use, so a function's import, which checks the settings (keys.py, for the signing key), loads
neither httpx (jwks.py) nor the rest (README, Cold start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from shared.auth.claims import (
    AUTHENTICATED,
    LEGACY_ISSUER,
    SERVICE_ROLE,
    Caller,
    bearer_token,
    require_service,
)

if TYPE_CHECKING:
    from shared.auth.callers import Authenticator
    from shared.auth.tokens import AuthConfig, mint_service_key, mint_session, mint_user_token

#: The names loaded on first use, and their module.
_LAZY = {
    "Authenticator": "shared.auth.callers",
    "AuthConfig": "shared.auth.tokens",
    "mint_service_key": "shared.auth.tokens",
    "mint_session": "shared.auth.tokens",
    "mint_user_token": "shared.auth.tokens",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
