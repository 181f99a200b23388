"""The order the consumer drains the pgmq queues in (`Queue`, in shared/db/queue.py, names
them with their class of budget): interactive work is consumed before scheduled bulk work."""

from __future__ import annotations

from shared.db.queue import Queue

#: The order the consumer drains queues in: a queue is read only when those before it are
#: empty (checked again before every claim).
PRIORITY: tuple[Queue, ...] = (
    Queue.CHARACTER_SYNC,
    Queue.PROFILE_SYNC,
    Queue.STATIC_DATA,
    Queue.GUILD_ROSTER,
    Queue.CHARACTER_REFRESH,
)
