"""The composition root: settings, the data layer, the Battle.net client and the services,
wired once. Handlers reach it through `get_app()` (a lazily created module global, so a cold
start pays only for what it uses); tests build their own with `bootstrap(...)` and pass fakes.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field

from shared.blizzard.client import BlizzardClient
from shared.db.protocol import Database, Repository
from shared.services.static_data import StaticDataService
from shared.settings import Settings


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

    def close(self) -> None:
        self.db.close()
        self.blizzard.http.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    blizzard: BlizzardClient | None = None,
) -> App:
    settings = settings or Settings.load()
    return App(
        settings=settings,
        db=db or make_database(settings),
        blizzard=blizzard or BlizzardClient(settings),
    )


_app: App | None = None
_lock = threading.Lock()


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
