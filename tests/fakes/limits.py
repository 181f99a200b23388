"""`LimitStore` in memory: quotas over a rolling window, open streams with a time to live
and a longest life, login starts per address and minute, as the SQL functions count them
(time is the fake database's clock)."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

from shared.db.base import UserId
from shared.db.limits import LimitAnswer
from tests.fakes.db import FakeDb


class FakeLimitStore:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def quota_take(self, user_id: UserId, kind: str, limit: int, window_s: int) -> LimitAnswer:
        now = self.db.now()
        since = now - timedelta(seconds=window_s)
        taken = sorted(
            at for u, k, at in self.db.quota_events if (u, k) == (str(user_id), kind) and at > since
        )
        if len(taken) >= limit:
            frees = taken[max(len(taken) - limit, 0)] + timedelta(seconds=window_s)
            return LimitAnswer(False, float(max(1, math.ceil((frees - now).total_seconds()))))
        self.db.quota_events = [
            e
            for e in self.db.quota_events
            if not ((e[0], e[1]) == (str(user_id), kind) and e[2] <= since)
        ]
        self.db.quota_events.append((str(user_id), kind, now))
        return LimitAnswer(True)

    def stream_open(self, user_id: UserId, limit: int, ttl_s: int, max_life_s: int) -> LimitAnswer:
        now = self.db.now()
        live = [
            s
            for s in self.db.streams.values()
            if s["userId"] == str(user_id) and s["expiresAt"] > now
        ]
        if len(live) >= limit:
            free_at = min(min(s["expiresAt"], s["endsBy"]) for s in live)
            return LimitAnswer(False, float(max(1, math.ceil((free_at - now).total_seconds()))))
        for sid, s in list(self.db.streams.items()):
            if s["userId"] == str(user_id) and s["expiresAt"] <= now:
                del self.db.streams[sid]
        stream_id = str(uuid.uuid4())
        self.db.streams[stream_id] = {
            "userId": str(user_id),
            "endsBy": now + timedelta(seconds=max_life_s),
            "expiresAt": now + timedelta(seconds=ttl_s),
        }
        return LimitAnswer(True, 0.0, stream_id)

    def stream_touch(self, stream_id: str, ttl_s: int) -> bool:
        s = self.db.streams.get(stream_id)
        if s is None:
            return False
        s["expiresAt"] = min(s["endsBy"], self.db.now() + timedelta(seconds=ttl_s))
        return True

    def stream_close(self, stream_id: str) -> None:
        self.db.streams.pop(stream_id, None)

    def login_start_take(self, address: str, limit: int) -> LimitAnswer:
        now = self.db.now()
        minute = now.replace(second=0, microsecond=0)
        key = (address[:64], minute)
        starts = self.db.login_starts.get(key, 0)
        if starts >= limit:
            wait = (minute + timedelta(minutes=1) - now).total_seconds()
            return LimitAnswer(False, float(max(1, math.ceil(wait))))
        self.db.login_starts[key] = starts + 1
        return LimitAnswer(True)
