"""The repositories, one per concern, as one bundle the composition root hands out: each
service takes only the ones it uses. `Repositories.over(db)` builds the SQL ones over a
`Database` transport; unit tests build the in-memory fakes over one shared state
(`tests/fakes`)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.db.characters import CharacterStore, SqlCharacterStore
from shared.db.limits import LimitStore, SqlLimitStore
from shared.db.protocol import Database
from shared.db.queue import QueueStore, SqlQueueStore
from shared.db.sessions import SessionStore, SqlSessionStore
from shared.db.snapshots import SnapshotStore, SqlSnapshotStore
from shared.db.static_data import SqlStaticDataStore, StaticDataStore
from shared.db.throttle import SqlThrottleStore, ThrottleStore
from shared.db.users import SqlUserStore, UserStore


@dataclass(frozen=True)
class Repositories:
    users: UserStore
    sessions: SessionStore
    characters: CharacterStore
    snapshots: SnapshotStore
    static_data: StaticDataStore
    limits: LimitStore
    queue: QueueStore
    throttle: ThrottleStore

    @classmethod
    def over(cls, db: Database) -> Repositories:
        return cls(
            users=SqlUserStore(db),
            sessions=SqlSessionStore(db),
            characters=SqlCharacterStore(db),
            snapshots=SqlSnapshotStore(db),
            static_data=SqlStaticDataStore(db),
            limits=SqlLimitStore(db),
            queue=SqlQueueStore(db),
            throttle=SqlThrottleStore(db),
        )
