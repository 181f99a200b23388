"""The composition root: settings, the data layer, the Battle.net client and the services,
wired once. Handlers reach it through `get_app()` (a lazily created module global, so a cold
start pays only for what it uses); tests build their own with `bootstrap(...)` and pass fakes.
Each function's main.py calls `check_settings()` when imported, so a bad deploy never starts.
"""

from __future__ import annotations

import functools
import sys
import threading
from dataclasses import dataclass, field
from types import TracebackType

from shared.blizzard.client import BlizzardClient
from shared.crypto import TokenCipher
from shared.db.protocol import Database, Repository
from shared.errors import ConfigError
from shared.ratelimit import PostgresRateLimiter
from shared.services.character_sync import CharacterSyncService, ProfileSyncJob
from shared.services.enrichment import CharacterEnricher
from shared.services.login import LoginService
from shared.services.progress import ProgressStream
from shared.services.refresh import GuildRosterJob, RefreshCharacterJob, StaticDataJob
from shared.services.static_data import StaticDataService
from shared.services.users import UserDirectory
from shared.settings import Settings, get_settings
from shared.worker import QueueWorker, WorkerOptions
from shared.worker_types import Job


def make_database(settings: Settings) -> Database:
    if settings.uses_supabase:
        from shared.db.supabase_adapter import SupabaseDatabase

        assert settings.supabase_url and settings.supabase_service_role_key
        return SupabaseDatabase(
            settings.supabase_url, settings.supabase_service_role_key.get_secret_value()
        )
    from shared.db.psycopg_adapter import PsycopgDatabase

    return PsycopgDatabase(settings.database_url)


@dataclass
class App:
    settings: Settings
    db: Database
    blizzard: BlizzardClient
    repo: Repository = field(init=False)

    def __post_init__(self) -> None:
        self.repo = Repository(self.db)

    @functools.cached_property
    def static_data(self) -> StaticDataService:
        return StaticDataService(self.blizzard, self.repo)

    @functools.cached_property
    def cipher(self) -> TokenCipher:
        return TokenCipher(self.settings.token_encryption_key.get_secret_value())

    @functools.cached_property
    def login(self) -> LoginService:
        return LoginService(self.settings, self.blizzard, self.repo, self.cipher)

    @functools.cached_property
    def character_sync(self) -> CharacterSyncService:
        return CharacterSyncService(self.blizzard, self.repo, self.cipher)

    @functools.cached_property
    def users(self) -> UserDirectory:
        return UserDirectory(self.repo)

    @functools.cached_property
    def progress(self) -> ProgressStream:
        return ProgressStream(self.repo)

    def worker(self, options: WorkerOptions | None = None) -> QueueWorker:
        """The queue worker. Its Battle.net client makes one attempt per call (429 aside):
        retries happen through the queue's visibility timeout instead."""
        client = self.blizzard.with_attempts(1)
        sync = CharacterSyncService(client, self.repo, self.cipher)
        jobs: dict[str, Job] = {
            "enrich_character": CharacterEnricher(client, self.repo),
            "profile_sync": ProfileSyncJob(sync),
            "refresh_character": RefreshCharacterJob(client, self.repo),
            "guild_roster": GuildRosterJob(client, self.repo),
            "static_data": StaticDataJob(self.static_data, self.settings.regions),
        }
        return QueueWorker(self.repo, jobs, options)

    def close(self) -> None:
        self.db.close()
        self.blizzard.http.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    blizzard: BlizzardClient | None = None,
    rate_limited: bool = True,
) -> App:
    """Wire the real pieces. Every Battle.net request takes a token from the global limiter
    in Postgres unless `rate_limited` is False (tests faking Battle.net)."""
    settings = settings or Settings.load()
    database = db or make_database(settings)
    if blizzard is None:
        limiter = (
            PostgresRateLimiter(
                Repository(database),
                settings.client_id,
                settings.blizzard_rate_per_second,
                settings.blizzard_rate_per_hour,
            )
            if rate_limited
            else None
        )
        blizzard = BlizzardClient(settings, limiter=limiter)
    return App(settings=settings, db=database, blizzard=blizzard)


_app: App | None = None
_lock = threading.Lock()


def check_settings() -> Settings:
    """Read and check the settings when a function's main.py is imported, so a deploy with a
    missing or refused setting fails to start. If the ConfigError ends the process (as when
    functions-framework imports main.py), it prints as one line naming the variable, without
    a traceback."""
    try:
        return get_settings()
    except ConfigError:
        if not isinstance(sys.excepthook, _OneLineConfigErrors):
            sys.excepthook = _OneLineConfigErrors(sys.excepthook)
        raise


class _OneLineConfigErrors:
    def __init__(self, previous: object) -> None:
        self.previous = previous

    def __call__(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, ConfigError):
            print(exc, file=sys.stderr, flush=True)
        elif callable(self.previous):
            self.previous(kind, exc, tb)


def get_app() -> App:
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                _app = bootstrap()
    return _app


def set_app(app: App | None) -> App | None:
    """Replace the process-wide app (tests); returns the previous one."""
    global _app
    previous, _app = _app, app
    return previous
