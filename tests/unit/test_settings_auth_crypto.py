"""Settings (production mode included), JWTs and token encryption."""

from __future__ import annotations

import json

import pytest

from shared.auth import Authenticator, mint_service_key
from shared.auth.keys import generate_signing_key
from shared.crypto import TokenCipher, generate_key
from shared.errors import ConfigError, TokenDecryptionError, Unauthorized
from shared.settings import DEV_JWT_SECRET, DEV_TOKEN_KEY, Settings

SECRET = "x" * 40
SECRET_KEY = "sb_secret_" + "q" * 30
SIGNING_KEY = json.dumps(generate_signing_key())
#: A production deploy on the new keys: everything set, no JWT secret.
PRODUCTION_ENV = {
    "BLIZZARD_CLIENT_ID": "id",
    "BLIZZARD_CLIENT_SECRET": "secret",
    "DATABASE_URL": "postgresql://postgres:pw@db.example:6543/postgres",
    "OAUTH_REDIRECT_URI": "https://api.example/functions/v1/oauth-flow/callback",
    "TOKEN_ENCRYPTION_KEY": generate_key("prod"),
    "SUPABASE_JWT_SIGNING_KEY": SIGNING_KEY,
    "SUPABASE_SECRET_KEYS": SECRET_KEY,
}


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
    "BLIZZARD_CLIENT_SECRET",
    "K_SERVICE",
    "DATABASE_URL",
    "SUPABASE_URL",
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_JWT_SECRET",
    "SUPABASE_JWT_SIGNING_KEY",
    "SUPABASE_JWKS_URL",
    "SUPABASE_SECRET_KEYS",
    "TOKEN_ENCRYPTION_KEY",
    "OAUTH_REDIRECT_URI",
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
    assert settings.jwt_secret == DEV_JWT_SECRET
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
    for name, value in PRODUCTION_ENV.items():
        clean_env.setenv(name, value)
    clean_env.setenv("K_SERVICE", "oauth-flow")
    clean_env.delenv("SUPABASE_JWT_SIGNING_KEY")
    clean_env.delenv("SUPABASE_SECRET_KEYS")
    clean_env.setenv("SUPABASE_JWT_SECRET", SECRET)  # the legacy secret alone
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

    values = {k.lower(): v for k, v in PRODUCTION_ENV.items()}
    production = WithPublicDefault.model_validate(values)
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


def test_the_cli_secret_never_verifies_in_production(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION_ENV.items():
        clean_env.setenv(name, value)
    clean_env.setenv("SUPABASE_JWT_SECRET", SECRET)
    settings = Settings.load()
    auth = Authenticator(settings.auth, lambda user_id: True)
    with pytest.raises(Unauthorized):
        auth.caller(f"Bearer {mint_service_key(DEV_JWT_SECRET)}")
    assert auth.caller(f"Bearer {mint_service_key(SECRET)}").is_service


def test_production_starts_on_the_new_keys_alone(clean_env: pytest.MonkeyPatch) -> None:
    """No JWT secret: sessions signed with the signing key, service callers with secret keys,
    and HS256 refused (an unset secret is no secret in production, not the dev one)."""
    for name, value in PRODUCTION_ENV.items():
        clean_env.setenv(name, value)
    clean_env.setenv("SUPABASE_JWKS_URL", "https://ref.supabase.co/auth/v1/.well-known/jwks.json")
    settings = Settings.load()
    assert settings.jwt_secret is None and settings.secret_keys == (SECRET_KEY,)
    assert settings.jwt_issuer == "https://ref.supabase.co/auth/v1"
    assert settings.auth.signing_key is not None
    clean_env.setenv("SUPABASE_URL", "https://other.supabase.co/")
    assert Settings.load().jwt_issuer == "https://other.supabase.co/auth/v1"  # SUPABASE_URL wins


@pytest.mark.parametrize(
    ("unset", "variable"),
    [
        ("SUPABASE_JWT_SIGNING_KEY", "SUPABASE_JWT_SIGNING_KEY"),
        ("SUPABASE_SECRET_KEYS", "SUPABASE_SECRET_KEYS"),
        ("DATABASE_URL", "DATABASE_URL"),
        ("OAUTH_REDIRECT_URI", "OAUTH_REDIRECT_URI"),
        ("BLIZZARD_CLIENT_SECRET", "BLIZZARD_CLIENT_SECRET"),
        ("BLIZZARD_CLIENT_ID", "BLIZZARD_CLIENT_ID"),  # K_SERVICE still says production
    ],
)
def test_production_requires_what_has_only_a_local_default(
    clean_env: pytest.MonkeyPatch, unset: str, variable: str
) -> None:
    for name, value in {**PRODUCTION_ENV, "K_SERVICE": "fetch-profile"}.items():
        if name != unset:
            clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        Settings.load()
    message = str(info.value)
    assert message.startswith(f"missing setting {variable} ") and "production mode" in message
    assert info.value.context["variable"] == variable and SECRET_KEY not in message
    if unset in ("SUPABASE_JWT_SIGNING_KEY", "SUPABASE_SECRET_KEYS"):
        clean_env.setenv("SUPABASE_JWT_SECRET", SECRET)  # the legacy secret does both
        assert Settings.load().jwt_secret == SECRET


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("SUPABASE_JWT_SIGNING_KEY", '{"kty": "oct", "kid": "a", "k": "eA"}', "unsupported key"),
        ("SUPABASE_JWT_SIGNING_KEY", "not json", "not JSON"),
        ("SUPABASE_SECRET_KEYS", "sb_publishable_" + "p" * 24, "publishable"),
        ("SUPABASE_SECRET_KEYS", SECRET_KEY + ",eyJhbGciOi", "sb_secret_"),
        ("SUPABASE_JWKS_URL", "ftp://x", "http(s)"),
    ],
)
def test_bad_key_settings_name_the_variable(
    clean_env: pytest.MonkeyPatch, name: str, value: str, needle: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        Settings.load()
    assert str(info.value).startswith(f"invalid setting {name}:") and needle in str(info.value)


def test_locally_the_dev_secret_signs_only_without_a_signing_key(
    clean_env: pytest.MonkeyPatch,
) -> None:
    assert Settings.load().jwt_secret == DEV_JWT_SECRET
    clean_env.setenv("SUPABASE_JWT_SIGNING_KEY", SIGNING_KEY)
    settings = Settings.load()
    assert settings.jwt_secret is None  # on the new keys, as a new project: no HS256
    assert settings.jwt_issuer == "http://127.0.0.1:54321/auth/v1" and settings.jwks_url is None
    clean_env.setenv("SUPABASE_JWT_SECRET", SECRET)  # both, while migrating
    assert Settings.load().jwt_secret == SECRET
