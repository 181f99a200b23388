"""Settings: one pydantic-settings class reads the environment (DESIGN.md section 3).

A missing or malformed setting fails at start with one clear line naming the variable
(`Settings.load()` raises `ConfigError`).
"""

from __future__ import annotations

import base64
import functools
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.blizzard.regions import DEFAULT_API_TEMPLATE as DEFAULT_API_URL
from shared.blizzard.regions import DEFAULT_OAUTH_URL
from shared.errors import ConfigError, GuildSyncError

#: The Supabase CLI's well-known local JWT secret: fine for a laptop, never for production.
DEV_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
#: A fixed local key (32 bytes, urlsafe base64); production sets TOKEN_ENCRYPTION_KEY.
DEV_TOKEN_KEY = (
    "local-dev:" + base64.urlsafe_b64encode(b"guild-sync-local-dev-key-32bytes").decode()
)
#: Credentials the local emulator accepts when none are configured.
EMULATOR_CLIENT_ID = "local-client-id"
EMULATOR_CLIENT_SECRET = "local-client-secret"

DEFAULT_GATEWAY = "http://127.0.0.1:54321"


def _region(value: str) -> str:
    from shared.blizzard.regions import Region

    try:
        return Region.parse(value).value
    except GuildSyncError as exc:
        raise ValueError(str(exc)) from None


class Settings(BaseSettings):
    """Every setting of DESIGN.md section 3, read from the environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    database_url: str = "postgresql://postgres@127.0.0.1:54322/postgres"
    supabase_url: str | None = None
    supabase_service_role_key: SecretStr | None = None
    supabase_jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)

    blizzard_client_id: str | None = None
    blizzard_client_secret: SecretStr | None = None
    blizzard_api_url: str = DEFAULT_API_URL
    blizzard_oauth_url: str = DEFAULT_OAUTH_URL
    blizzard_region: str = "us"
    blizzard_regions: str = "us"
    blizzard_api_locale: str = "en_US"
    blizzard_rate_per_second: int = Field(default=100, gt=0)
    blizzard_rate_per_hour: int = Field(default=36000, gt=0)
    blizzard_rate_window_s: int = Field(default=3600, gt=0)
    blizzard_interactive_reserve: float = Field(default=0.2, ge=0, lt=1)
    blizzard_breaker_failures: int = Field(default=10, ge=0)  # 0: no circuit breaker
    blizzard_breaker_probe_seconds: float = Field(default=1.0, gt=0, le=60)
    blizzard_timeout_seconds: float = Field(default=10.0, gt=0)

    token_encryption_key: SecretStr = SecretStr(DEV_TOKEN_KEY)
    oauth_redirect_uri: str = DEFAULT_GATEWAY + "/functions/v1/oauth-flow/callback"
    # the web page `make run` serves (DEFAULT_GATEWAY) and a frontend's dev server
    oauth_allowed_redirects: str = "http://localhost:3000,http://127.0.0.1:3000," + DEFAULT_GATEWAY
    session_ttl_seconds: int = Field(default=3600, gt=0)

    @field_validator("blizzard_api_url", "blizzard_oauth_url", "oauth_redirect_uri")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.replace("{region}", "us"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value.rstrip("/")

    @field_validator("blizzard_region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _region(value)

    @field_validator("blizzard_regions")
    @classmethod
    def _regions(cls, value: str) -> str:
        return ",".join(_region(v) for v in value.split(",") if v.strip())

    @property
    def regions(self) -> list[str]:
        return self.blizzard_regions.split(",")

    @property
    def allowed_redirect_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.oauth_allowed_redirects.split(",") if o.strip()]

    @property
    def client_id(self) -> str:
        return self.blizzard_client_id or EMULATOR_CLIENT_ID

    @property
    def client_secret(self) -> str:
        secret = self.blizzard_client_secret
        return secret.get_secret_value() if secret else EMULATOR_CLIENT_SECRET

    @property
    def uses_supabase(self) -> bool:
        return bool(self.supabase_url and self.supabase_service_role_key)

    @classmethod
    def load(cls) -> Settings:
        """Read the environment; raise ConfigError naming the first bad variable."""
        try:
            return cls()
        except ValidationError as exc:
            err = exc.errors()[0]
            name = str(err["loc"][0]).upper() if err["loc"] else "settings"
            raise ConfigError(f"invalid setting {name}: {err['msg']}", variable=name) from None


@functools.cache
def get_settings() -> Settings:
    return Settings.load()
