"""The local stack's keys: made once under .local (Python fallback in tests), explicit settings
win, and `make service-key` prints what the stack's functions accept."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from devtools.local_keys import LocalKeys, auth_env, service_key
from shared.auth import AuthConfig, Authenticator
from shared.auth.keys import parse_signing_key

GATEWAY = "http://127.0.0.1:54321"


@pytest.fixture
def keys(tmp_path: Path) -> LocalKeys:
    return LocalKeys(tmp_path / "local", use_cli=False)


def test_new_keys_are_the_default_and_kept(keys: LocalKeys) -> None:
    env = auth_env({}, keys, GATEWAY)
    assert env["SUPABASE_JWKS_URL"] == GATEWAY + "/auth/v1/.well-known/jwks.json"
    signing = parse_signing_key(env["SUPABASE_JWT_SIGNING_KEY"])
    assert signing.algorithm == "ES256"
    stored = json.loads(keys.signing_keys_path.read_text())
    assert isinstance(stored, list) and stored[0]["kid"] == signing.kid  # the CLI's file shape
    assert env["SUPABASE_SECRET_KEYS"].startswith("sb_secret_")
    for path in (keys.signing_keys_path, keys.secret_key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth_env({}, keys, GATEWAY) == env  # the same keys on the next run
    # what `make service-key` prints is what those functions accept
    auth = Authenticator(
        AuthConfig(issuer="x", secret_keys=(env["SUPABASE_SECRET_KEYS"],)), lambda _: True
    )
    assert auth.caller(None, service_key({}, keys)).is_service


def test_explicit_settings_win(keys: LocalKeys) -> None:
    legacy = auth_env({"SUPABASE_JWT_SECRET": "s" * 40}, keys, GATEWAY)
    assert "SUPABASE_JWT_SIGNING_KEY" not in legacy and "SUPABASE_SECRET_KEYS" not in legacy
    assert not keys.signing_keys_path.exists()
    legacy_key = service_key({"SUPABASE_JWT_SECRET": "s" * 40}, keys)
    assert legacy_key.count(".") == 2  # a service-role JWT
    given = {"SUPABASE_JWT_SIGNING_KEY": "{}", "SUPABASE_SECRET_KEYS": "sb_secret_a,sb_secret_b",
             "SUPABASE_URL": "https://ref.supabase.co"}  # fmt: skip
    assert auth_env(given, keys, GATEWAY) == {}
    assert service_key(given, keys) == "sb_secret_a"
