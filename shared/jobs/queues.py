"""The pgmq queues, their priority and their class of budget: interactive work (a user's sync,
an enrichment, a login's first sync) is consumed before scheduled bulk work, may use the whole
Battle.net budget, and is claimed fairly between users; bulk work is paced."""

from __future__ import annotations

from enum import StrEnum

from shared.blizzard.budget import BudgetClass


class Queue(StrEnum):
    CHARACTER_SYNC = "character_sync"  # interactive: logins' profile syncs, users' enrichments
    PROFILE_SYNC = "profile_sync"  # scheduled daily account syncs
    STATIC_DATA = "static_data"  # scheduled monthly static data
    GUILD_ROSTER = "guild_roster"  # scheduled daily rosters
    CHARACTER_REFRESH = "character_refresh"  # scheduled stale-character refreshes

    @property
    def budget_class(self) -> BudgetClass:
        return BudgetClass.INTERACTIVE if self is Queue.CHARACTER_SYNC else BudgetClass.BULK

    @property
    def fair(self) -> bool:
        """Claims rotate between users (one user's flood cannot delay the others)."""
        return self is Queue.CHARACTER_SYNC


#: The order the consumer drains queues in: a queue is read only when those before it are
#: empty (checked again before every claim).
PRIORITY: tuple[Queue, ...] = (
    Queue.CHARACTER_SYNC,
    Queue.PROFILE_SYNC,
    Queue.STATIC_DATA,
    Queue.GUILD_ROSTER,
    Queue.CHARACTER_REFRESH,
)
