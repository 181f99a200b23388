"""In-memory repositories for unit tests, one per role as in `shared.db` (cosmicpython's
FakeRepository), each complete, all over one fake database (`FakeDb`) as the SQL ones share
one Postgres: `Fakes()` builds them; `fakes.db` holds the tables a test prepares or checks.
The SQL behind each method is tested on Postgres in tests/integration, which stays the check
that the two agree."""

from __future__ import annotations

from shared.db.repositories import Repositories
from tests.fakes.characters import FakeCharacterStore
from tests.fakes.db import FakeClock, FakeDb, in_hours
from tests.fakes.limits import FakeLimitStore
from tests.fakes.queue import FakeQueueStore
from tests.fakes.sessions import FakeSessionStore
from tests.fakes.snapshots import FakeSnapshotStore
from tests.fakes.static_data import FakeStaticDataStore
from tests.fakes.throttle import FakeThrottleStore
from tests.fakes.users import FakeUserStore


class Fakes:
    def __init__(self, clock: FakeClock | None = None) -> None:
        self.db = FakeDb(clock)
        self.clock = self.db.clock
        self.users = FakeUserStore(self.db)
        self.sessions = FakeSessionStore(self.db)
        self.characters = FakeCharacterStore(self.db)
        self.snapshots = FakeSnapshotStore(self.db)
        self.static_data = FakeStaticDataStore(self.db)
        self.limits = FakeLimitStore(self.db)
        self.queue = FakeQueueStore(self.db)
        self.throttle = FakeThrottleStore(self.db)

    def repositories(self) -> Repositories:
        return Repositories(
            users=self.users,
            sessions=self.sessions,
            characters=self.characters,
            snapshots=self.snapshots,
            static_data=self.static_data,
            limits=self.limits,
            queue=self.queue,
            throttle=self.throttle,
        )


__all__ = ["FakeClock", "FakeDb", "Fakes", "in_hours"]
