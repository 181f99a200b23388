"""The pgmq queues and their priority: interactive work (a user's sync, a login) is always
consumed before scheduled bulk work."""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    CHARACTER_SYNC = "character_sync"  # interactive: logins' profile syncs, users' enrichments
    PROFILE_SYNC = "profile_sync"  # scheduled daily account syncs
    STATIC_DATA = "static_data"  # scheduled monthly static data
    GUILD_ROSTER = "guild_roster"  # scheduled daily rosters
    CHARACTER_REFRESH = "character_refresh"  # scheduled stale-character refreshes


#: The order the consumer drains queues in: a queue is read only when those before it are
#: empty (checked again before every batch).
PRIORITY: tuple[Queue, ...] = (
    Queue.CHARACTER_SYNC,
    Queue.PROFILE_SYNC,
    Queue.STATIC_DATA,
    Queue.GUILD_ROSTER,
    Queue.CHARACTER_REFRESH,
)
INTERACTIVE: frozenset[Queue] = frozenset({Queue.CHARACTER_SYNC})
