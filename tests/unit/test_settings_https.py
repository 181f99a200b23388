"""Production mode wants https for the login's redirect URI and the allowed redirects, loopback
hosts aside."""

from __future__ import annotations

import pytest

from shared.crypto import generate_key
from shared.errors import ConfigError
from shared.settings import Settings, is_loopback

PRODUCTION = {
    "K_SERVICE": "oauth-flow",
    "BLIZZARD_CLIENT_ID": "prod-client",
    "BLIZZARD_CLIENT_SECRET": "prod-secret",
    "DATABASE_URL": "postgresql://postgres@db.example.com:6543/postgres",
    "SUPABASE_JWT_SECRET": "x" * 40,
    "TOKEN_ENCRYPTION_KEY": generate_key("prod"),
}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OAUTH_REDIRECT_URI", "OAUTH_ALLOWED_REDIRECTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OAUTH_REDIRECT_URI", "http://api.example.com/functions/v1/oauth-flow/callback"),
        ("OAUTH_REDIRECT_URI", "http://10.0.0.1/functions/v1/oauth-flow/callback"),
        ("OAUTH_ALLOWED_REDIRECTS", "https://app.example.com,http://app.example.com"),
        ("OAUTH_ALLOWED_REDIRECTS", "http://localhost.example.com"),
        ("OAUTH_ALLOWED_REDIRECTS", "http://128.0.0.1:3000"),
        ("OAUTH_ALLOWED_REDIRECTS", "http://[::1"),
    ],
)
def test_production_refuses_plain_http(
    production: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    production.setenv("OAUTH_REDIRECT_URI", "https://api.example.com/cb")
    production.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        Settings.load()
    message = str(info.value)
    assert message.startswith(f"invalid setting {variable}:")
    assert "not https" in message or "not a URL" in message
    assert info.value.context["variable"] == variable


@pytest.mark.parametrize(
    ("redirect_uri", "allowed"),
    [
        ("https://api.example.com/cb", "https://app.example.com,https://app2.example.com:8443"),
        ("http://127.0.0.1:54321/cb", "http://localhost:3000,http://127.3.4.5,http://[::1]:8080"),
        ("http://localhost/cb", "https://app.example.com"),
    ],
)
def test_production_takes_https_and_loopback(
    production: pytest.MonkeyPatch, redirect_uri: str, allowed: str
) -> None:
    production.setenv("OAUTH_REDIRECT_URI", redirect_uri)
    production.setenv("OAUTH_ALLOWED_REDIRECTS", allowed)
    settings = Settings.load()
    assert settings.production and settings.allowed_redirect_origins == allowed.split(",")


def test_local_mode_takes_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BLIZZARD_CLIENT_ID", "K_SERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OAUTH_REDIRECT_URI", "http://api.example.com/cb")
    monkeypatch.setenv("OAUTH_ALLOWED_REDIRECTS", "http://app.example.com")
    assert not Settings.load().production


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("128.0.0.1", False),
        ("localhost.example.com", False),
        ("::2", False),
        (None, False),
        ("", False),
    ],
)
def test_is_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback
