"""Limits one client cannot get around, counted exactly in SQL under a lock: a user's quotas
(syncs, enrichments), their open event streams, and login starts per client address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.db.base import SqlStore, UserId, as_id
from shared.db.protocol import JSON


@dataclass(frozen=True)
class LimitAnswer:
    """A limit's answer (quota, open streams, login starts): taken, or refused with the seconds
    to wait; `id` names what was taken when it is a thing to give back (an open stream)."""

    ok: bool
    retry_after: float = 0.0
    id: str | None = None

    @classmethod
    def from_json(cls, row: JSON) -> LimitAnswer:
        found = row.get("id")
        retry_after = float(row.get("retryAfter") or 0)
        return cls(bool(row["ok"]), retry_after, None if found is None else str(found))


class LimitStore(Protocol):
    def quota_take(self, user_id: UserId, kind: str, limit: int, window_s: int) -> LimitAnswer: ...
    def stream_open(
        self, user_id: UserId, limit: int, ttl_s: int, max_life_s: int
    ) -> LimitAnswer: ...
    def stream_touch(self, stream_id: str, ttl_s: int) -> bool: ...
    def stream_close(self, stream_id: str) -> None: ...
    def login_start_take(self, address: str, limit: int) -> LimitAnswer: ...


class SqlLimitStore(SqlStore):
    def quota_take(self, user_id: UserId, kind: str, limit: int, window_s: int) -> LimitAnswer:
        """One unit of the user's quota of `kind` ('sync', 'enrich'): at most `limit` in any
        `window_s` seconds; nothing written when refused."""
        answer: JSON = self._call(
            "quota_take", p_user_id=as_id(user_id), p_kind=kind, p_limit=limit, p_window_s=window_s
        )
        return LimitAnswer.from_json(answer)

    def stream_open(self, user_id: UserId, limit: int, ttl_s: int, max_life_s: int) -> LimitAnswer:
        """Count an open event stream of the user (fewer than `limit` live ones), alive for
        `ttl_s` seconds unless touched; its `id` is given back with `stream_close`."""
        answer: JSON = self._call(
            "stream_open",
            p_user_id=as_id(user_id),
            p_limit=limit,
            p_ttl_s=ttl_s,
            p_max_life_s=max_life_s,
        )
        return LimitAnswer.from_json(answer)

    def stream_touch(self, stream_id: str, ttl_s: int) -> bool:
        return bool(self._call("stream_touch", p_id=stream_id, p_ttl_s=ttl_s))

    def stream_close(self, stream_id: str) -> None:
        self._call("stream_close", p_id=stream_id)

    def login_start_take(self, address: str, limit: int) -> LimitAnswer:
        """Count a login start of a client address in this minute (at most `limit`)."""
        answer: JSON = self._call("login_start_take", p_address=address, p_limit=limit)
        return LimitAnswer.from_json(answer)
