"""The budget in SQL: windows aligned to the epoch, bulk work paced to its share, interactive
work allowed the rest, and no window ever over its budget."""

from __future__ import annotations

import time

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories


def take(
    repo: Repositories,
    bucket: str,
    cls: str,
    per_window: int,
    window_s: int,
    reserve: float = 0.2,
    want: int = 4,
):  # type: ignore[no-untyped-def]
    return repo.throttle.rate_limit_take(bucket, want, cls, 10_000, per_window, window_s, reserve)


def windows(db: PsycopgDatabase, bucket: str) -> list[dict[str, object]]:
    with db.connection() as conn:
        return conn.execute(
            "select * from rate_limit_windows where bucket = %s order by window_start", (bucket,)
        ).fetchall()


def test_window_budget_is_never_exceeded(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    granted = sum(take(repo, "w", "interactive", 10, 3600).granted for _ in range(20))
    assert granted == 10
    refused = take(repo, "w", "interactive", 10, 3600)
    assert refused.granted == 0 and refused.reason == "window"
    ends = 3600 - time.time() % 3600
    assert abs(refused.wait_seconds - ends) < 2  # the wait ends with the window
    [row] = windows(db, "w")
    assert row["used"] == 10 and row["interactive_used"] == 10


def test_bulk_is_paced_and_interactive_keeps_the_rest(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    window_s, budget, reserve = 4, 400, 0.5  # bulk may use 200, at 50 per second
    while time.time() % window_s > 0.5:  # start near the beginning of a window
        time.sleep(0.05)
    started = time.time()
    bulk = 0
    reasons = set()
    while time.time() - started < 2.0:
        answer = take(repo, "p", "bulk", budget, window_s, reserve)
        bulk += answer.granted
        if answer.granted == 0:
            reasons.add(answer.reason)
            assert 0 < answer.wait_seconds <= window_s
            time.sleep(min(answer.wait_seconds, 0.05))
    elapsed = time.time() - started + 0.5
    assert bulk <= 50 * elapsed + 2 + 4  # its even spread, the 1 % head start and one batch
    assert bulk >= 50 * (elapsed - 0.5) * 0.6  # and it does get its share
    assert reasons == {"pace"}
    interactive = sum(
        take(repo, "p", "interactive", budget, window_s, reserve).granted for _ in range(150)
    )
    assert interactive >= 150 * 4 - 2 * 200 - bulk  # users get what bulk leaves
    for row in windows(db, "p"):
        assert row["used"] <= row["budget"] and row["bulk_used"] <= row["bulk_cap"]


def test_bulk_share_spent_means_wait_for_the_next_window(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    with db.connection() as conn:  # a window whose bulk share is used up
        conn.execute(
            "insert into rate_limit_windows (bucket, window_start, window_s, budget, bulk_cap, "
            "used, bulk_used) values ('b', to_timestamp(floor(extract(epoch from now()) / 3600)"
            " * 3600), 3600, 100, 80, 80, 80)"
        )
    answer = take(repo, "b", "bulk", 100, 3600)
    assert answer.granted == 0 and answer.reason == "window"
    assert take(repo, "b", "interactive", 100, 3600).granted == 4


def test_users_work_takes_the_second_from_bulk_work(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)

    def ask(cls: str, want: int = 1):  # type: ignore[no-untyped-def]  # 100/s: a burst of 2
        return repo.throttle.rate_limit_take("u", want, cls, 100, 1000, 3600, 0.2)

    def backdate(column: str) -> None:
        with db.connection() as conn:
            conn.execute(
                f"update rate_limit_buckets set {column} = {column} - interval '1 second' "
                "where bucket = 'u'"
            )

    assert ask("bulk").granted == 1  # alone: bulk work is served
    backdate("refreshed_at")  # the bucket full again
    assert ask("interactive", 2).granted == 2  # users' work spends the second
    answer = ask("bulk")
    assert answer.granted == 0 and answer.reason == "second"
    assert 0.25 <= answer.wait_seconds <= 1.0
    backdate("refreshed_at")  # users' work left the bucket full: bulk work may take from it
    assert ask("bulk").granted == 1
    assert ask("interactive").granted == 1
    backdate("interactive_at")  # a second later users' work has stopped asking
    backdate("refreshed_at")
    assert ask("bulk", 2).granted == 2
    [row] = windows(db, "u")
    assert row["bulk_used"] == 4 and row["interactive_used"] == 3
