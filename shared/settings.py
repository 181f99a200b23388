"""Settings: one pydantic-settings class reads the environment (DESIGN.md section 3).

A missing or malformed setting fails at start with one clear line naming the variable
(`Settings.load()` raises `ConfigError`).

Production mode (`BLIZZARD_CLIENT_ID` set, or `K_SERVICE` as on Cloud Run / Cloud Functions)
requires every setting that has only a local default (Battle.net credentials, DATABASE_URL or
SUPABASE_URL with its key, OAUTH_REDIRECT_URI, TOKEN_ENCRYPTION_KEY), a way to sign sessions
(SUPABASE_JWT_SIGNING_KEY or SUPABASE_JWT_SECRET) and a way to authenticate service callers
(SUPABASE_SECRET_KEYS or SUPABASE_JWT_SECRET); it refuses the public development secrets and a
JWT secret under 32 characters, and keeps no localhost origin in the default redirect
allow-list. An unset SUPABASE_JWT_SECRET means no legacy secret there (HS256 refused). Locally
nothing needs to be set: without a signing key the Supabase CLI's dev secret signs. Production
also wants https for OAUTH_REDIRECT_URI and every allowed redirect (loopback hosts aside).
"""

from __future__ import annotations

import base64
import ipaddress
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth.claims import PUBLISHABLE_KEY_PREFIX, SECRET_KEY_PREFIX
from shared.auth.keys import SigningKey, parse_signing_key
from shared.crypto import parse_key_ring
from shared.errors import ConfigError

if TYPE_CHECKING:
    from shared.auth.tokens import AuthConfig

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
#: Where Supabase serves a project's public keys, below its auth URL.
JWKS_PATH = "/.well-known/jwks.json"
PRODUCTION = "production mode (BLIZZARD_CLIENT_ID or K_SERVICE is set)"


#: Battle.net's regions as the settings name them (`shared.blizzard.regions.Region` has the
#: same members; a test checks), and its public hosts: the defaults of BLIZZARD_API_URL and
#: BLIZZARD_OAUTH_URL. Settings know these names, not the Battle.net package.
REGION_NAMES = ("us", "eu", "kr", "tw", "cn")
DEFAULT_API_URL = "https://{region}.api.blizzard.com"
DEFAULT_OAUTH_URL = "https://oauth.battle.net"


def _region(value: str) -> str:
    name = value.strip().lower()
    if name not in REGION_NAMES:
        raise ValueError(f"unknown region {value!r}; valid: {', '.join(REGION_NAMES)}")
    return name


class Settings(BaseSettings):
    """Every setting of DESIGN.md section 3, read from the environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    database_url: str = "postgresql://postgres@127.0.0.1:54322/postgres"
    supabase_url: str | None = None
    supabase_service_role_key: SecretStr | None = None
    supabase_jwt_secret: SecretStr | None = None  # unset: the dev secret locally (see jwt_secret)
    supabase_jwt_signing_key: SecretStr | None = None
    supabase_jwks_url: str | None = None
    supabase_secret_keys: SecretStr | None = None

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
    # Characters of no user, not seen in a synced guild roster for this many days, are pruned
    # (the daily pg_cron job uses the SQL function's default, 90; /queue-consumer/prune this).
    character_prune_after_days: int = Field(default=90, ge=1, le=3650)

    token_encryption_key: SecretStr = SecretStr(DEV_TOKEN_KEY)
    oauth_redirect_uri: str = DEFAULT_GATEWAY + "/functions/v1/oauth-flow/callback"
    oauth_allowed_redirects: str = DEFAULT_ALLOWED_REDIRECTS
    session_ttl_seconds: int = Field(default=3600, gt=0)
    # Limits one client cannot get around (DESIGN.md section 5; README "Limits").
    user_syncs_per_hour: int = Field(default=20, ge=1)
    user_enriches_per_hour: int = Field(default=120, ge=1)
    user_max_streams: int = Field(default=10, ge=1)
    max_streams_per_instance: int | None = Field(default=None, ge=1)  # None: half the THREADS
    stream_max_seconds: float = Field(default=240.0, ge=10, le=3300)
    login_starts_per_minute: int = Field(default=60, ge=1)
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

    @field_validator("supabase_jwt_signing_key")
    @classmethod
    def _signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            parse_signing_key(value.get_secret_value())  # ValueError without key material
            return value
        return None

    @field_validator("supabase_secret_keys")
    @classmethod
    def _secret_keys(cls, value: SecretStr | None) -> SecretStr | None:
        keys = [k.strip() for k in (value.get_secret_value() if value else "").split(",")]
        for key in filter(None, keys):
            if key.startswith(PUBLISHABLE_KEY_PREFIX):
                raise ValueError("a sb_publishable_ key is not a secret key")
            if not key.startswith(SECRET_KEY_PREFIX) or len(key) < len(SECRET_KEY_PREFIX) + 16:
                raise ValueError("each entry must be a sb_secret_... key")
        return value if any(keys) else None

    @field_validator("supabase_jwt_secret")
    @classmethod
    def _jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        """Production never runs on the public development secrets nor on a local default
        (ConfigError naming the variable; the message never shows a secret)."""
        if not self.production:
            return self
        if self.supabase_jwt_secret is not None:
            secret = self.supabase_jwt_secret.get_secret_value().strip()
            if secret == DEV_JWT_SECRET:
                raise _refused(
                    "SUPABASE_JWT_SECRET",
                    "the public Supabase CLI secret",
                    "set the project's JWT secret, or leave it unset on the new keys",
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
        self._production_required()
        return self

    def _production_required(self) -> None:
        """Settings that have only a local default must be set in production."""
        given = self.model_fields_set
        legacy = self.supabase_jwt_secret is not None
        if self.k_service and not self.blizzard_client_id:
            raise _missing("BLIZZARD_CLIENT_ID", "the Battle.net app's client id")
        if not self.blizzard_client_secret:
            raise _missing("BLIZZARD_CLIENT_SECRET", "the Battle.net app's client secret")
        if "database_url" not in given and not self.uses_supabase:
            raise _missing(
                "DATABASE_URL", "or SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY: the database"
            )
        if "oauth_redirect_uri" not in given:
            raise _missing("OAUTH_REDIRECT_URI", "the oauth-flow callback's public URL")
        if self.supabase_jwt_signing_key is None and not legacy:
            raise _missing(
                "SUPABASE_JWT_SIGNING_KEY",
                "or SUPABASE_JWT_SECRET: nothing could sign a session",
            )
        if self.supabase_secret_keys is None and not legacy:
            raise _missing(
                "SUPABASE_SECRET_KEYS",
                "or SUPABASE_JWT_SECRET: no service caller could authenticate",
            )

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

    @field_validator(
        "blizzard_api_url", "blizzard_oauth_url", "oauth_redirect_uri", "supabase_jwks_url"
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
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
    def jwt_secret(self) -> str | None:
        """The legacy HS256 secret: the one set; else, locally and without a signing key, the
        Supabase CLI's dev secret; else none (HS256 tokens refused)."""
        if self.supabase_jwt_secret is not None:
            return self.supabase_jwt_secret.get_secret_value()
        if self.production or self.supabase_jwt_signing_key is not None:
            return None
        return DEV_JWT_SECRET

    @property
    def signing_key(self) -> SigningKey | None:
        key = self.supabase_jwt_signing_key
        return parse_signing_key(key.get_secret_value()) if key is not None else None

    @property
    def secret_keys(self) -> tuple[str, ...]:
        raw = self.supabase_secret_keys.get_secret_value() if self.supabase_secret_keys else ""
        return tuple(k.strip() for k in raw.split(",") if k.strip())

    @property
    def jwt_issuer(self) -> str:
        """The project's token issuer: `${SUPABASE_URL}/auth/v1`; without SUPABASE_URL the auth
        URL the JWKS URL lives under, else the local gateway's (`make run` serves its JWKS
        there)."""
        if self.supabase_url:
            return self.supabase_url.rstrip("/") + "/auth/v1"
        if self.supabase_jwks_url and self.supabase_jwks_url.endswith(JWKS_PATH):
            return self.supabase_jwks_url[: -len(JWKS_PATH)]
        return DEFAULT_GATEWAY + "/auth/v1"

    @property
    def jwks_url(self) -> str | None:
        if self.supabase_jwks_url:
            return self.supabase_jwks_url
        if self.supabase_url:
            return self.supabase_url.rstrip("/") + "/auth/v1" + JWKS_PATH
        return None

    @property
    def auth(self) -> AuthConfig:
        """What authentication needs: signing key, legacy secret, secret keys, JWKS, issuer."""
        from shared.auth.tokens import AuthConfig  # with the JWKS cache: httpx, not the check

        return AuthConfig(
            issuer=self.jwt_issuer,
            signing_key=self.signing_key,
            jwt_secret=self.jwt_secret,
            secret_keys=self.secret_keys,
            jwks_url=self.jwks_url,
        )

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


def _missing(variable: str, what: str) -> ConfigError:
    message = f"missing setting {variable} ({what}): required in {PRODUCTION}"
    return ConfigError(message, variable=variable)


_current: Settings | None = None


def get_settings() -> Settings:
    """The process's settings: read from the environment once, or the ones the composition
    root put in place (`use_settings`)."""
    global _current
    if _current is None:
        _current = Settings.load()
    return _current


def use_settings(settings: Settings | None) -> Settings | None:
    """Put `settings` in place for the process (None: read the environment again on next
    use); returns the previous ones."""
    global _current
    previous, _current = _current, settings
    return previous
