"""The repository: what services and jobs need of the database, as a typed interface.

`Repository` is the interface (a Protocol with explicit parameters); `SqlRepository` implements
it over any `Database` transport (the psycopg adapter or the supabase-py adapter, which call the
same SQL functions); unit tests use an in-memory fake (`tests/fakes.py`), as cosmicpython's
`FakeRepository` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from shared.db.protocol import JSON, Database

UserId = uuid.UUID | str
SettleAction = Literal["delete", "retry", "pause", "dead"]

#: The scheduled jobs' bodies (what pg_cron runs), callable by hand.
JOBS = (
    "enqueue_profile_refreshes",
    "enqueue_character_refreshes",
    "enqueue_static_sync",
    "enqueue_guild_rosters",
    "expire_stuck_sessions",
)


@dataclass(frozen=True)
class Delivery:
    """One delivery of a queued message: `read_ct` names the delivery (settling a stale one is
    refused), `attempts` is the job's count of attempts including this one."""

    queue: str
    msg_id: int
    read_ct: int
    attempts: int
    enqueued_at: datetime
    message: JSON

    @classmethod
    def from_json(cls, queue: str, row: JSON) -> Delivery:
        enqueued = row["enqueuedAt"]
        return cls(
            queue=queue,
            msg_id=int(row["msgId"]),
            read_ct=int(row["readCt"]),
            attempts=int(row.get("attempts") or row["readCt"]),
            enqueued_at=enqueued
            if isinstance(enqueued, datetime)
            else datetime.fromisoformat(enqueued),
            message=row["message"],
        )


@dataclass(frozen=True)
class BudgetAnswer:
    granted: int
    wait_seconds: float
    reason: str | None  # which limit refused: 'second', 'pace' or 'window'
    window_ends_in: float = float("inf")  # seconds: tokens granted now are spent before


class Repository(Protocol):
    # static data
    def upsert_static_data(self, entries: list[JSON]) -> list[JSON]: ...

    # login
    def save_oauth_state(
        self,
        state: str,
        code_verifier: str,
        redirect_to: str | None,
        region: str,
        browser_hash: str,
        expires_at: datetime,
    ) -> None: ...
    def consume_login_state(self, state: str, browser_hash: str | None) -> JSON | None: ...
    def find_user_id(
        self, user_id: UserId | None = None, battlenet_id: int | None = None
    ) -> uuid.UUID | None: ...
    def upsert_login(
        self,
        *,
        battlenet_id: int,
        battletag: str | None,
        region: str,
        ciphertext: str,
        key_id: str,
        expires_at: str,
        scopes: list[str],
        sync_queue: str | None,
    ) -> JSON: ...
    def get_user_token(self, user_id: UserId) -> JSON | None: ...
    def get_sync_preferences(self, user_id: UserId) -> JSON | None: ...
    def set_sync_preferences(
        self, user_id: UserId, auto_sync: str, game_versions: list[str]
    ) -> JSON | None: ...
    def mark_relogin_required(self, user_id: UserId) -> None: ...

    # sync sessions
    def active_sync_session(self, user_id: UserId) -> str | None: ...
    def account_sync_started_since(self, user_id: UserId, since: datetime) -> bool: ...
    def start_character_sync(
        self,
        *,
        user_id: UserId,
        region: str,
        flavor: str,
        game_version: str,
        characters: list[JSON],
        queue: str,
        archive_missing: bool,
    ) -> JSON: ...
    def enqueue_character_enrichment(
        self, user_id: UserId, character_id: int, queue: str
    ) -> JSON | None: ...
    def start_character_item(self, session_id: str, character_id: int) -> bool: ...
    def record_character_result(
        self, session_id: str, character_id: int, status: str, error: str | None, data: JSON | None
    ) -> JSON: ...
    def fail_sync_session(self, session_id: str, error: str) -> None: ...
    def get_sync_state(self, session_id: str, user_id: UserId | None) -> JSON | None: ...
    def sync_events_since(self, session_id: str, after: int) -> list[JSON]: ...
    def list_user_characters(self, user_id: UserId) -> list[JSON]: ...
    def character_history(
        self, user_id: UserId | None, character_id: int, since: datetime | None, limit: int
    ) -> JSON | None: ...

    # queues
    def queue_claim(
        self, queue: str, visibility_timeout: int, qty: int, fair: bool
    ) -> list[Delivery]: ...
    def queue_settle(
        self, delivery: Delivery, action: SettleAction, seconds: int = 0, reason: str | None = None
    ) -> bool: ...
    def queue_extend(self, queue: str, deliveries: Sequence[Delivery], seconds: int) -> int: ...
    def queue_depths(self) -> dict[str, int]: ...
    def queue_status(self) -> JSON: ...
    def queue_consumer_report(
        self, ok: bool, error: str | None = None, code: str | None = None
    ) -> None: ...
    def pgmq_version(self) -> str | None: ...

    # background work
    def rate_limit_take(
        self,
        bucket: str,
        want: int,
        budget_class: str,
        per_second: int,
        per_window: int,
        window_s: int,
        reserve: float,
    ) -> BudgetAnswer: ...
    def refresh_account_characters(
        self,
        *,
        user_id: UserId,
        region: str,
        flavor: str,
        characters: list[JSON],
        archive_missing: bool,
        queue: str,
    ) -> int: ...
    def record_character_refresh(
        self, character_id: int, result: str, data: JSON | None
    ) -> None: ...
    def apply_guild_roster(
        self, guild_id: int, members: list[JSON], last_modified: str | None, member_count: int
    ) -> JSON | None: ...
    def touch_guild_roster(self, guild_id: int) -> None: ...
    def run_job(self, name: str) -> int: ...

    # snapshots and guild pages
    def snapshot_sources(self, character_id: int) -> JSON: ...
    def record_character_snapshots(self, character_id: int, entries: list[JSON]) -> JSON: ...
    def character_snapshots(self, user_id: UserId, character_id: int, kind: str) -> JSON | None: ...
    def character_snapshot(
        self, user_id: UserId, character_id: int, snapshot_id: int
    ) -> JSON | None: ...
    def guild_page(self, user_id: UserId, guild_id: int) -> JSON | None: ...

    # outages
    def breaker_state(self, bucket: str, refused: int) -> JSON: ...
    def breaker_report(self, bucket: str, ok: bool, threshold: int, error: str | None) -> JSON: ...
    def breaker_claim_probe(self, bucket: str, interval_ms: int) -> bool: ...
    def requeue_dead_letters(
        self, queue: str | None, since: datetime | None, reason: str | None, limit: int
    ) -> JSON: ...

    # growth
    def prune_characters(self, after_days: int, batch_size: int, max_batches: int) -> JSON: ...


def _id(value: UserId | None) -> str | None:
    return None if value is None else str(value)


class SqlRepository:
    """`Repository` over a `Database`: one SQL function call per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _call(self, function: str, **params: Any) -> Any:
        return self.db.rpc(function, params)

    # --- static data ----------------------------------------------------------------------

    def upsert_static_data(self, entries: list[JSON]) -> list[JSON]:
        result: list[JSON] = self._call("upsert_static_data", p_data=entries)
        return result

    # --- login ----------------------------------------------------------------------------

    def save_oauth_state(
        self,
        state: str,
        code_verifier: str,
        redirect_to: str | None,
        region: str,
        browser_hash: str,
        expires_at: datetime,
    ) -> None:
        """Store a login's state (purging expired ones)."""
        self._call(
            "save_oauth_state",
            p_state=state,
            p_code_verifier=code_verifier,
            p_redirect_to=redirect_to,
            p_region=region,
            p_browser_hash=browser_hash,
            p_expires_at=expires_at.isoformat(),
        )

    def consume_login_state(self, state: str, browser_hash: str | None) -> JSON | None:
        """The state once, for its browser: None when unknown, expired or used;
        {"browserMismatch": true} when another browser brings it."""
        result: JSON | None = self._call(
            "consume_login_state", p_state=state, p_browser_hash=browser_hash
        )
        return result

    def find_user_id(
        self, user_id: UserId | None = None, battlenet_id: int | None = None
    ) -> uuid.UUID | None:
        """The id of the user named by id or Battle.net account id, if there is one."""
        result = self._call("find_user_id", p_user_id=_id(user_id), p_battlenet_id=battlenet_id)
        return None if result is None else uuid.UUID(str(result))

    def upsert_login(
        self,
        *,
        battlenet_id: int,
        battletag: str | None,
        region: str,
        ciphertext: str,
        key_id: str,
        expires_at: str,
        scopes: list[str],
        sync_queue: str | None,
    ) -> JSON:
        result: JSON = self._call(
            "upsert_login",
            p_battlenet_id=battlenet_id,
            p_battletag=battletag,
            p_region=region,
            p_ciphertext=ciphertext,
            p_key_id=key_id,
            p_expires_at=expires_at,
            p_scopes=scopes,
            p_sync_queue=sync_queue,
        )
        return result

    def get_user_token(self, user_id: UserId) -> JSON | None:
        result: JSON | None = self._call("get_user_token", p_user_id=_id(user_id))
        return result

    def mark_relogin_required(self, user_id: UserId) -> None:
        self._call("mark_relogin_required", p_user_id=_id(user_id))

    def get_sync_preferences(self, user_id: UserId) -> JSON | None:
        """{autoSync, gameVersions, nextSyncAt, reason}; None for an unknown user."""
        result: JSON | None = self._call("get_sync_preferences", p_user_id=_id(user_id))
        return result

    def set_sync_preferences(
        self, user_id: UserId, auto_sync: str, game_versions: list[str]
    ) -> JSON | None:
        result: JSON | None = self._call(
            "set_sync_preferences",
            p_user_id=_id(user_id),
            p_auto_sync=auto_sync,
            p_game_versions=game_versions,
        )
        return result

    # --- sync sessions --------------------------------------------------------------------

    def active_sync_session(self, user_id: UserId) -> str | None:
        result: str | None = self._call("active_sync_session", p_user_id=_id(user_id))
        return None if result is None else str(result)

    def account_sync_started_since(self, user_id: UserId, since: datetime) -> bool:
        return bool(
            self._call(
                "account_sync_started_since", p_user_id=_id(user_id), p_since=since.isoformat()
            )
        )

    def start_character_sync(
        self,
        *,
        user_id: UserId,
        region: str,
        flavor: str,
        game_version: str,
        characters: list[JSON],
        queue: str,
        archive_missing: bool,
    ) -> JSON:
        result: JSON = self._call(
            "start_character_sync",
            p_user_id=_id(user_id),
            p_region=region,
            p_flavor=flavor,
            p_game_version=game_version,
            p_characters=characters,
            p_queue=queue,
            p_archive_missing=archive_missing,
        )
        return result

    def enqueue_character_enrichment(
        self, user_id: UserId, character_id: int, queue: str
    ) -> JSON | None:
        result: JSON | None = self._call(
            "enqueue_character_enrichment",
            p_user_id=_id(user_id),
            p_character_id=character_id,
            p_queue=queue,
        )
        return result

    def start_character_item(self, session_id: str, character_id: int) -> bool:
        return bool(
            self._call("start_character_item", p_session_id=session_id, p_character_id=character_id)
        )

    def record_character_result(
        self, session_id: str, character_id: int, status: str, error: str | None, data: JSON | None
    ) -> JSON:
        result: JSON = self._call(
            "record_character_result",
            p_session_id=session_id,
            p_character_id=character_id,
            p_status=status,
            p_error=error,
            p_data=data,
        )
        return result

    def fail_sync_session(self, session_id: str, error: str) -> None:
        self._call("fail_sync_session", p_session_id=session_id, p_error=error)

    def get_sync_state(self, session_id: str, user_id: UserId | None) -> JSON | None:
        result: JSON | None = self._call(
            "get_sync_state", p_session_id=session_id, p_user_id=_id(user_id)
        )
        return result

    def sync_events_since(self, session_id: str, after: int) -> list[JSON]:
        result: list[JSON] = self._call("sync_events_since", p_session_id=session_id, p_after=after)
        return result

    def list_user_characters(self, user_id: UserId) -> list[JSON]:
        result: list[JSON] = self._call("list_user_characters", p_user_id=_id(user_id))
        return result

    def character_history(
        self, user_id: UserId | None, character_id: int, since: datetime | None, limit: int
    ) -> JSON | None:
        """A character's changes, newest first; None when it is not the user's (any user's
        when `user_id` is None: the service key)."""
        result: JSON | None = self._call(
            "character_history",
            p_user_id=_id(user_id),
            p_character_id=character_id,
            p_since=since.isoformat() if since else None,
            p_limit=limit,
        )
        return result

    # --- queues ---------------------------------------------------------------------------

    def queue_claim(
        self, queue: str, visibility_timeout: int, qty: int, fair: bool
    ) -> list[Delivery]:
        rows: list[JSON] = self._call(
            "queue_claim", p_queue=queue, p_vt=visibility_timeout, p_qty=qty, p_fair=fair
        )
        return [Delivery.from_json(queue, r) for r in rows]

    def queue_settle(
        self, delivery: Delivery, action: SettleAction, seconds: int = 0, reason: str | None = None
    ) -> bool:
        return bool(
            self._call(
                "queue_settle",
                p_queue=delivery.queue,
                p_msg_id=delivery.msg_id,
                p_read_ct=delivery.read_ct,
                p_action=action,
                p_seconds=seconds,
                p_reason=reason,
            )
        )

    def queue_extend(self, queue: str, deliveries: Sequence[Delivery], seconds: int) -> int:
        if not deliveries:
            return 0
        rows = [{"msgId": d.msg_id, "readCt": d.read_ct} for d in deliveries]
        return int(self._call("queue_extend", p_queue=queue, p_deliveries=rows, p_seconds=seconds))

    def queue_depths(self) -> dict[str, int]:
        result: dict[str, int] = self._call("queue_depths")
        return {k: int(v) for k, v in result.items()}

    def queue_status(self) -> JSON:
        result: JSON = self._call("queue_status")
        return result

    def queue_consumer_report(
        self, ok: bool, error: str | None = None, code: str | None = None
    ) -> None:
        self._call("queue_consumer_report", p_ok=ok, p_error=error, p_code=code)

    def pgmq_version(self) -> str | None:
        version = self._call("pgmq_version")
        return None if version is None else str(version)

    # --- background work ------------------------------------------------------------------

    def rate_limit_take(
        self,
        bucket: str,
        want: int,
        budget_class: str,
        per_second: int,
        per_window: int,
        window_s: int,
        reserve: float,
    ) -> BudgetAnswer:
        answer: JSON = self._call(
            "rate_limit_take",
            p_bucket=bucket,
            p_want=want,
            p_class=budget_class,
            p_per_second=per_second,
            p_per_window=per_window,
            p_window_s=window_s,
            p_reserve=reserve,
        )
        return BudgetAnswer(
            int(answer["granted"]),
            int(answer["waitMs"]) / 1000,
            answer.get("reason"),
            int(answer["windowEndsInMs"]) / 1000,
        )

    def refresh_account_characters(
        self,
        *,
        user_id: UserId,
        region: str,
        flavor: str,
        characters: list[JSON],
        archive_missing: bool,
        queue: str,
    ) -> int:
        return int(
            self._call(
                "refresh_account_characters",
                p_user_id=_id(user_id),
                p_region=region,
                p_flavor=flavor,
                p_characters=characters,
                p_archive_missing=archive_missing,
                p_queue=queue,
            )
        )

    def record_character_refresh(self, character_id: int, result: str, data: JSON | None) -> None:
        self._call(
            "record_character_refresh", p_character_id=character_id, p_result=result, p_data=data
        )

    def apply_guild_roster(
        self, guild_id: int, members: list[JSON], last_modified: str | None, member_count: int
    ) -> JSON | None:
        result: JSON | None = self._call(
            "apply_guild_roster",
            p_guild_id=guild_id,
            p_members=members,
            p_last_modified=last_modified,
            p_member_count=member_count,
        )
        return result

    def touch_guild_roster(self, guild_id: int) -> None:
        self._call("touch_guild_roster", p_guild_id=guild_id)

    def run_job(self, name: str) -> int:
        """Run a scheduled job's body now (what pg_cron runs)."""
        if name not in JOBS:
            raise ValueError(f"unknown job {name!r}")
        return int(self._call(name))

    # --- snapshots and guild pages ----------------------------------------------------------

    def snapshot_sources(self, character_id: int) -> JSON:
        """Per kind fetched before: its own Last-Modified and the profile's at that time."""
        result: JSON | None = self._call("snapshot_sources", p_character_id=character_id)
        return result or {}

    def record_character_snapshots(self, character_id: int, entries: list[JSON]) -> JSON:
        """Move each kind's source; store a content unless equal to the newest of its kind."""
        result: JSON = self._call(
            "record_character_snapshots", p_character_id=character_id, p_entries=entries
        )
        return result

    def character_snapshots(self, user_id: UserId, character_id: int, kind: str) -> JSON | None:
        result: JSON | None = self._call(
            "character_snapshots", p_user_id=_id(user_id), p_character_id=character_id, p_kind=kind
        )
        return result

    def character_snapshot(
        self, user_id: UserId, character_id: int, snapshot_id: int
    ) -> JSON | None:
        result: JSON | None = self._call(
            "character_snapshot",
            p_user_id=_id(user_id),
            p_character_id=character_id,
            p_snapshot_id=snapshot_id,
        )
        return result

    def guild_page(self, user_id: UserId, guild_id: int) -> JSON | None:
        result: JSON | None = self._call("guild_page", p_user_id=_id(user_id), p_guild_id=guild_id)
        return result

    # --- outages ----------------------------------------------------------------------------

    def breaker_state(self, bucket: str, refused: int) -> JSON:
        result: JSON = self._call("breaker_state", p_bucket=bucket, p_refused=refused)
        return result

    def breaker_report(self, bucket: str, ok: bool, threshold: int, error: str | None) -> JSON:
        result: JSON = self._call(
            "breaker_report", p_bucket=bucket, p_ok=ok, p_threshold=threshold, p_error=error
        )
        return result

    def breaker_claim_probe(self, bucket: str, interval_ms: int) -> bool:
        return bool(self._call("breaker_claim_probe", p_bucket=bucket, p_interval_ms=interval_ms))

    def requeue_dead_letters(
        self, queue: str | None, since: datetime | None, reason: str | None, limit: int
    ) -> JSON:
        result: JSON = self._call(
            "requeue_dead_letters",
            p_queue=queue,
            p_since=since.isoformat() if since else None,
            p_reason=reason,
            p_limit=limit,
        )
        return result

    # --- growth ---------------------------------------------------------------------------

    def prune_characters(self, after_days: int, batch_size: int, max_batches: int) -> JSON:
        """Delete characters of no user unseen in a roster for `after_days` (with their
        snapshots and history) and memberless guilds, in bounded batches; what was removed."""
        result: JSON = self._call(
            "prune_characters",
            p_after_days=after_days,
            p_batch_size=batch_size,
            p_max_batches=max_batches,
        )
        return result
