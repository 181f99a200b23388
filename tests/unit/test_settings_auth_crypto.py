"""Settings, JWTs and token encryption."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import mint_service_key, mint_user_token, verify
from shared.crypto import TokenCipher, generate_key
from shared.errors import ConfigError, TokenDecryptionError, Unauthorized
from shared.settings import Settings

SECRET = "x" * 40


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BLIZZARD_RATE_PER_SECOND", "lots"),
        ("BLIZZARD_REGION", "mars"),
        ("BLIZZARD_API_URL", "ftp://nowhere"),
        ("OAUTH_REDIRECT_URI", "not a url"),
    ],
)
def test_bad_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        Settings.load()
    assert str(info.value).startswith(f"invalid setting {name}:")
    assert "\n" not in str(info.value)


def test_defaults_follow_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATABASE_URL", "BLIZZARD_API_URL", "BLIZZARD_OAUTH_URL", "BLIZZARD_REGIONS"):
        monkeypatch.delenv(var, raising=False)
    settings = Settings.load()
    assert settings.database_url == "postgresql://postgres@127.0.0.1:54322/postgres"
    assert settings.blizzard_api_url == "https://{region}.api.blizzard.com"
    assert settings.blizzard_oauth_url == "https://oauth.battle.net"
    assert settings.regions == ["us"] and settings.blizzard_rate_per_second == 100
    assert settings.blizzard_rate_per_hour == 36000 and not settings.uses_supabase


def test_service_key_and_user_tokens() -> None:
    caller = verify(mint_service_key(SECRET), SECRET)
    assert caller.is_service and caller.user_id is None
    user_id = uuid.uuid4()
    token, expires_at = mint_user_token(user_id, SECRET, 60)
    caller = verify(token, SECRET)
    assert (caller.role, caller.user_id, caller.claims["aud"]) == (
        "authenticated",
        user_id,
        "authenticated",
    )
    assert expires_at == caller.claims["exp"]
    with pytest.raises(Unauthorized):
        verify(token, SECRET + "other")
    expired, _ = mint_user_token(user_id, SECRET, -60)
    with pytest.raises(Unauthorized, match="expired"):
        verify(expired, SECRET)


def test_token_cipher_round_trip_rotation_and_binding() -> None:
    old, new = generate_key("k1"), generate_key("k2")
    sealed = TokenCipher(old).encrypt("bnet-token", associated="42")
    assert "bnet-token" not in sealed.ciphertext and sealed.key_id == "k1"
    rotated = TokenCipher(f"{new},{old}")
    assert rotated.decrypt(sealed.ciphertext, "42") == "bnet-token"
    assert rotated.encrypt("t", "42").key_id == "k2"
    with pytest.raises(TokenDecryptionError):
        rotated.decrypt(sealed.ciphertext, "43")  # bound to its user
    with pytest.raises(TokenDecryptionError, match="unknown key id"):
        TokenCipher(new).decrypt(sealed.ciphertext, "42")
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEY"):
        TokenCipher("k1:short")
