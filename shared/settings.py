"""Settings: one pydantic-settings class reads the environment (DESIGN.md section 3).

A missing or malformed setting fails at start with one clear line naming the variable
(`Settings.load()` raises `ConfigError`).

Production mode (`BLIZZARD_CLIENT_ID` set, or `K_SERVICE` as on Cloud Run / Cloud Functions)
refuses the development defaults of SUPABASE_JWT_SECRET and TOKEN_ENCRYPTION_KEY (an unset
variable is the default), a JWT secret under 32 characters, and keeps no localhost origin in
the default redirect allow-list, and wants https for OAUTH_REDIRECT_URI and every allowed
redirect (loopback hosts aside). Locally nothing needs to be set.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.blizzard.regions import DEFAULT_API_TEMPLATE as DEFAULT_API_URL
from shared.blizzard.regions import DEFAULT_OAUTH_URL
from shared.crypto import parse_key_ring
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
#: Where a login may return to when OAUTH_ALLOWED_REDIRECTS is unset: a frontend's dev server and
#: the page `make run` serves (production mode keeps only the entries that are not localhost).
DEFAULT_ALLOWED_REDIRECTS = "http://localhost:3000,http://127.0.0.1:3000," + DEFAULT_GATEWAY
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MIN_JWT_SECRET_LENGTH = 32
PRODUCTION = "production mode (BLIZZARD_CLIENT_ID or K_SERVICE is set)"


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
    # Gear and talent snapshots in enrichment and refresh (GUILD_SYNC_SNAPSHOTS=off: none).
    guild_sync_snapshots: bool = True

    token_encryption_key: SecretStr = SecretStr(DEV_TOKEN_KEY)
    oauth_redirect_uri: str = DEFAULT_GATEWAY + "/functions/v1/oauth-flow/callback"
    oauth_allowed_redirects: str = DEFAULT_ALLOWED_REDIRECTS
    session_ttl_seconds: int = Field(default=3600, gt=0)
    k_service: str | None = None  # set by Cloud Run and Cloud Functions: production mode
    # Operations: logs (shared/logs.py) and the database pool of one instance (README, sizing)
    log_format: Literal["json", "text"] | None = None  # default: json in production, else text
    google_cloud_project: str | None = None  # names the trace in JSON logs
    db_pool_max_size: int = Field(default=10, ge=1, le=200)  # psycopg connections per instance

    @field_validator("token_encryption_key")
    @classmethod
    def _key_ring(cls, value: SecretStr) -> SecretStr:
        parse_key_ring(value.get_secret_value())  # ConfigError naming the variable
        return value

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        """Production never runs on the public development secrets (ConfigError naming the
        variable; the message never shows a secret)."""
        if not self.production:
            return self
        secret = self.supabase_jwt_secret.get_secret_value().strip()
        if secret == DEV_JWT_SECRET:
            raise _refused(
                "SUPABASE_JWT_SECRET",
                "unset or the public Supabase CLI secret",
                "set the project's JWT secret",
            )
        if len(secret) < MIN_JWT_SECRET_LENGTH:
            raise _refused(
                "SUPABASE_JWT_SECRET", f"shorter than {MIN_JWT_SECRET_LENGTH} characters"
            )
        dev_key = next(iter(parse_key_ring(DEV_TOKEN_KEY).values()))
        if dev_key in parse_key_ring(self.token_encryption_key.get_secret_value()).values():
            raise _refused(
                "TOKEN_ENCRYPTION_KEY",
                "unset or holding the development key",
                "generate one with `python -c 'from shared.crypto import generate_key; "
                'print(generate_key("k1"))\'`',
            )
        return self

    @model_validator(mode="after")
    def _production_https(self) -> Settings:
        """Production sends the browser and the session over https only: OAUTH_REDIRECT_URI and
        every OAUTH_ALLOWED_REDIRECTS entry must be https, loopback hosts aside (a proxy or a
        tunnel on the same machine)."""
        if not self.production:
            return self
        named = [("OAUTH_REDIRECT_URI", self.oauth_redirect_uri)]
        named += [("OAUTH_ALLOWED_REDIRECTS", o) for o in self.allowed_redirect_origins]
        for variable, url in named:
            try:
                parts = urlsplit(url)
            except ValueError:
                raise _refused(variable, f"{url!r} is not a URL") from None
            if parts.scheme != "https" and not is_loopback(parts.hostname):
                raise _refused(variable, f"{url!r} is not https", "use https (loopback aside)")
        return self

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
    def production(self) -> bool:
        return bool(self.blizzard_client_id or self.k_service)

    @property
    def logs_as_json(self) -> bool:
        return (self.log_format or ("json" if self.production else "text")) == "json"

    @property
    def allowed_redirect_origins(self) -> list[str]:
        origins = [o.strip().rstrip("/") for o in self.oauth_allowed_redirects.split(",")]
        keep_local = not self.production or "oauth_allowed_redirects" in self.model_fields_set
        return [o for o in origins if o and (keep_local or urlsplit(o).hostname not in LOCAL_HOSTS)]

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


def is_loopback(host: str | None) -> bool:
    """localhost, 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refused(variable: str, problem: str, fix: str = "") -> ConfigError:
    message = f"invalid setting {variable}: {problem}, refused in {PRODUCTION}"
    return ConfigError(message + (f"; {fix}" if fix else ""), variable=variable)


@functools.cache
def get_settings() -> Settings:
    return Settings.load()
