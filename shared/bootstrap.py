"""The composition root: settings, the data layer, the Battle.net client and the services,
wired once. Handlers reach it through `shared.instance.get_app()`, which imports this module
and builds the app on the first request (README, Cold start); tests build their own with
`bootstrap(...)` and pass fakes. Each function's main.py calls `shared.instance.check_settings()`
when imported, so a bad deploy never starts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from shared.auth import Authenticator
from shared.blizzard.breaker import CircuitBreaker
from shared.blizzard.budget import BudgetLimits, PostgresBudget
from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import Region
from shared.crypto import TokenCipher
from shared.db.protocol import Database
from shared.db.repositories import Repositories
from shared.db.throttle import SqlThrottleStore
from shared.jobs.accounts import ProfileSyncJob
from shared.jobs.enrich import EnrichCharacterJob
from shared.jobs.registry import Registry
from shared.jobs.scheduled import GuildRosterJob, RefreshCharacterJob, StaticDataJob
from shared.jobs.worker import Worker, WorkerOptions
from shared.services.character_sync import CharacterSyncService, UserQuotas
from shared.services.characters import CharacterDirectory
from shared.services.enrichment import CharacterEnricher
from shared.services.login import LoginService
from shared.services.preferences import SyncPreferences
from shared.services.progress import ProgressStream, StreamLimits
from shared.services.refresh import CharacterRefresher, RosterSync
from shared.services.snapshots import SnapshotCapture, SnapshotReader
from shared.services.static_data import StaticDataService
from shared.services.users import UserDirectory
from shared.settings import Settings


def make_database(settings: Settings) -> Database:
    if settings.uses_supabase:
        from shared.db.supabase_adapter import SupabaseDatabase

        assert settings.supabase_url and settings.supabase_service_role_key
        return SupabaseDatabase(
            settings.supabase_url, settings.supabase_service_role_key.get_secret_value()
        )
    from shared.db.psycopg_adapter import PsycopgDatabase

    return PsycopgDatabase(settings.database_url, max_size=settings.db_pool_max_size)


@dataclass
class App:
    settings: Settings
    db: Database
    blizzard: BlizzardClient
    repos: Repositories = field(init=False)

    def __post_init__(self) -> None:
        self.repos = Repositories.over(self.db)

    @functools.cached_property
    def static_data(self) -> StaticDataService:
        return StaticDataService(self.blizzard, self.repos.static_data)

    @functools.cached_property
    def cipher(self) -> TokenCipher:
        return TokenCipher(self.settings.token_encryption_key.get_secret_value())

    @functools.cached_property
    def auth(self) -> Authenticator:
        """Who calls: secret keys, sessions (signing key, JWKS, legacy secret), known users."""
        return Authenticator(
            self.settings.auth, lambda user_id: self.repos.users.find_user_id(user_id) is not None
        )

    @functools.cached_property
    def login(self) -> LoginService:
        return LoginService(
            self.settings,
            self.blizzard,
            self.repos.users,
            self.repos.limits,
            self.cipher,
            self.auth.config,
        )

    @functools.cached_property
    def character_sync(self) -> CharacterSyncService:
        return self._character_sync(self.blizzard)

    def _character_sync(self, client: BlizzardClient) -> CharacterSyncService:
        r = self.repos
        return CharacterSyncService(
            client, r.users, r.sessions, r.characters, r.limits, self.cipher, self.quotas
        )

    @functools.cached_property
    def quotas(self) -> UserQuotas:
        return UserQuotas.from_settings(self.settings)

    @functools.cached_property
    def characters(self) -> CharacterDirectory:
        return CharacterDirectory(self.repos.characters)

    @functools.cached_property
    def sync_preferences(self) -> SyncPreferences:
        return SyncPreferences(self.repos.users)

    @functools.cached_property
    def users(self) -> UserDirectory:
        return UserDirectory(self.repos.users)

    @functools.cached_property
    def snapshots(self) -> SnapshotReader:
        return SnapshotReader(self.repos.snapshots)

    @functools.cached_property
    def progress(self) -> ProgressStream:
        return ProgressStream(
            self.repos.sessions, self.repos.limits, StreamLimits.from_settings(self.settings)
        )

    @functools.cached_property
    def registry(self) -> Registry:
        """Every job, wired. Their Battle.net client makes one attempt per call (429 aside):
        retries happen through the queue's visibility timeout instead."""
        client = self.blizzard.with_attempts(1)
        r = self.repos
        snapshots = (
            SnapshotCapture(client, r.snapshots) if self.settings.guild_sync_snapshots else None
        )
        enricher = CharacterEnricher(client, snapshots)  # the profile, then its snapshots
        return Registry(
            [
                EnrichCharacterJob(enricher, r.sessions),
                ProfileSyncJob(self._character_sync(client), r.sessions),
                RefreshCharacterJob(CharacterRefresher(client, enricher)),
                GuildRosterJob(RosterSync(client, r.characters)),
                StaticDataJob(StaticDataService(client, r.static_data), self.settings.regions),
            ]
        )

    def worker(self, options: WorkerOptions | None = None) -> Worker:
        region = Region.parse(self.settings.blizzard_region)
        return Worker(
            self.repos.queue,
            self.registry,
            options,
            breaker=self.blizzard.breaker,
            probe=lambda: self.blizzard.probe(region),
        )

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
    """Wire the real pieces. Every Battle.net API request passes the shared circuit breaker
    and takes a token from the global budget in Postgres, unless `rate_limited` is False
    (tests faking Battle.net)."""
    settings = settings or Settings.load()
    database = db or make_database(settings)
    if blizzard is None:
        throttle = SqlThrottleStore(database)
        blizzard = BlizzardClient(
            settings,
            limiter=PostgresBudget(
                throttle, settings.client_id, BudgetLimits.from_settings(settings)
            )
            if rate_limited
            else None,
            breaker=CircuitBreaker(
                throttle,
                settings.client_id,
                threshold=settings.blizzard_breaker_failures,
                probe_seconds=settings.blizzard_breaker_probe_seconds,
            )
            if rate_limited
            else None,
        )
    return App(settings=settings, db=database, blizzard=blizzard)
