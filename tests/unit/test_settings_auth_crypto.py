"""Settings (production mode included), JWTs and token encryption."""

from __future__ import annotations

import uuid

import jwt
import pytest

from shared.auth import mint_service_key, mint_user_token, verify
from shared.crypto import TokenCipher, generate_key
from shared.errors import ConfigError, TokenDecryptionError, Unauthorized
from shared.settings import DEV_JWT_SECRET, DEV_TOKEN_KEY, Settings

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


PRODUCTION_VARS = (
    "BLIZZARD_CLIENT_ID",
    "K_SERVICE",
    "SUPABASE_JWT_SECRET",
    "TOKEN_ENCRYPTION_KEY",
    "OAUTH_ALLOWED_REDIRECTS",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in PRODUCTION_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_local_mode_needs_no_variables(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings.load()
    assert not settings.production
    assert settings.supabase_jwt_secret.get_secret_value() == DEV_JWT_SECRET
    assert settings.allowed_redirect_origins == [
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://127.0.0.1:54321",
    ]
    assert TokenCipher(settings.token_encryption_key.get_secret_value()).primary == "local-dev"


@pytest.mark.parametrize("mode", [{"BLIZZARD_CLIENT_ID": "id"}, {"K_SERVICE": "fetch-profile"}])
@pytest.mark.parametrize(
    ("env", "variable", "needle"),
    [
        ({}, "SUPABASE_JWT_SECRET", "unset or the public Supabase CLI secret"),
        ({"SUPABASE_JWT_SECRET": DEV_JWT_SECRET}, "SUPABASE_JWT_SECRET", "Supabase CLI"),
        ({"SUPABASE_JWT_SECRET": "x" * 31}, "SUPABASE_JWT_SECRET", "shorter than 32"),
        ({"SUPABASE_JWT_SECRET": SECRET}, "TOKEN_ENCRYPTION_KEY", "development key"),
        (
            {"SUPABASE_JWT_SECRET": SECRET, "TOKEN_ENCRYPTION_KEY": DEV_TOKEN_KEY},
            "TOKEN_ENCRYPTION_KEY",
            "development key",
        ),
        (
            {
                "SUPABASE_JWT_SECRET": SECRET,
                "TOKEN_ENCRYPTION_KEY": generate_key("new") + "," + DEV_TOKEN_KEY,
            },
            "TOKEN_ENCRYPTION_KEY",
            "development key",
        ),
    ],
)
def test_production_refuses_development_secrets(
    clean_env: pytest.MonkeyPatch,
    mode: dict[str, str],
    env: dict[str, str],
    variable: str,
    needle: str,
) -> None:
    for name, value in {**mode, **env}.items():
        clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        Settings.load()
    message = str(info.value)
    assert message.startswith(f"invalid setting {variable}:") and needle in message
    assert "\n" not in message and info.value.context["variable"] == variable
    assert SECRET not in message and DEV_TOKEN_KEY.split(":")[1] not in message


def test_production_with_strong_secrets(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("K_SERVICE", "oauth-flow")
    clean_env.setenv("SUPABASE_JWT_SECRET", SECRET)
    clean_env.setenv("TOKEN_ENCRYPTION_KEY", generate_key("prod"))
    settings = Settings.load()
    assert settings.production and settings.allowed_redirect_origins == []  # no localhost
    clean_env.setenv(
        "OAUTH_ALLOWED_REDIRECTS", "https://app.example.com,http://localhost:3000"
    )  # an explicit list is kept as given
    assert Settings.load().allowed_redirect_origins == [
        "https://app.example.com",
        "http://localhost:3000",
    ]


def test_production_drops_only_the_localhost_entries_of_the_default() -> None:
    from shared import settings as module

    class WithPublicDefault(Settings):
        oauth_allowed_redirects: str = module.DEFAULT_ALLOWED_REDIRECTS + ",https://app.example"

    values = {"blizzard_client_id": "id", "supabase_jwt_secret": SECRET}
    production = WithPublicDefault.model_validate(
        {**values, "token_encryption_key": generate_key("k")}
    )
    assert production.allowed_redirect_origins == ["https://app.example"]


def test_a_duplicate_key_id_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    ring = f"{generate_key('k1')},{generate_key('k2')},{generate_key('k1')}"
    with pytest.raises(ConfigError, match="key id 'k1' appears twice"):
        TokenCipher(ring)
    clean_env.setenv("TOKEN_ENCRYPTION_KEY", ring)
    with pytest.raises(ConfigError, match=r"^invalid setting TOKEN_ENCRYPTION_KEY: key id 'k1'"):
        Settings.load()
    with pytest.raises(ConfigError, match="key ids of letters"):
        TokenCipher(generate_key("a.b"))  # '.' separates a ciphertext's parts


def test_tokens_must_carry_exp() -> None:
    forever = jwt.encode({"role": "service_role"}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="no expiry"):
        verify(forever, SECRET)
    user = jwt.encode(
        {"role": "authenticated", "aud": "authenticated", "sub": str(uuid.uuid4())},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized, match="no expiry"):
        verify(user, SECRET)


def test_the_cli_secret_never_verifies_in_production(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("BLIZZARD_CLIENT_ID", "id")
    clean_env.setenv("SUPABASE_JWT_SECRET", SECRET)
    clean_env.setenv("TOKEN_ENCRYPTION_KEY", generate_key("prod"))
    secret = Settings.load().supabase_jwt_secret.get_secret_value()
    with pytest.raises(Unauthorized):
        verify(mint_service_key(DEV_JWT_SECRET), secret)
