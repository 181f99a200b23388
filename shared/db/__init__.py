"""The data layer: a small transport Protocol (`Database`) with two adapters that call the same
SQL functions, psycopg (pool; the local default) and supabase-py (PostgREST), and the typed
repositories services use, one per concern, each a Protocol with its SQL implementation:

| module | Protocol | what |
|---|---|---|
| `users` | `UserStore` | login states, the login's upsert and token, lookups, sync preferences |
| `sessions` | `SessionStore` | sync sessions: start, enrichment on demand, results, state, events |
| `characters` | `CharacterStore` | characters and their history, refreshes, guild rosters |
| `snapshots` | `SnapshotStore` | gear and talent snapshots, the guild page |
| `static_data` | `StaticDataStore` | classes, races, realms |
| `limits` | `LimitStore` | user quotas, open event streams, login starts |
| `queue` | `QueueStore` | deliveries, queue status, dead letters, scheduled jobs' bodies |
| `throttle` | `ThrottleStore` | the Battle.net budget and circuit breaker's shared state |

`repositories.Repositories` bundles them (`Repositories.over(db)`)."""

from shared.db.protocol import Database
from shared.db.queue import Delivery
from shared.db.repositories import Repositories

__all__ = ["Database", "Delivery", "Repositories"]
