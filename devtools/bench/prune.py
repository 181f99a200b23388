"""Growth: guild rosters that replace a share of their members every day over a simulated year,
with the daily prune (`prune_characters`) run per simulated day. Time is compressed in SQL:
each day's roster writes carry that day's timestamp and the prune runs with `p_now` at it.

Without pruning the characters table grows by the churn every day; with it, a character that
left every roster is deleted 90 days after it was last seen, so the table levels off at about
members + churn x 90 days. Users' characters (one per guild here) are never pruned."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg

from devtools.bench.common import Report, Run, sql
from devtools.stack import Stack

GUILDS = 50
MEMBERS = 30  # per guild, one of them a user's character
CHURN_PER_DAY = 1  # members replaced per guild per day (3.3 %)
DAYS = 365
AFTER_DAYS = 90
START = datetime(2026, 1, 1, 5, 41, tzinfo=UTC)

SETUP = """
insert into users (battlenet_id, battletag) select 7000000 + g, 'Prune#' || g
from generate_series(1, %(guilds)s) g;
insert into guilds (region, flavor, blizzard_id, name, slug, realm_id, realm_slug,
                    roster_synced_at, created_at, updated_at)
select 'us', 'retail', 8000000 + g, 'Churn ' || g, 'churn-' || g, 1, 'area-52', %(t)s, %(t)s, %(t)s
from generate_series(1, %(guilds)s) g;
insert into characters (user_id, region, flavor, realm_id, realm_slug, blizzard_id, name, level,
                        guild_id, guild_rank, enriched_at, created_at, last_seen_in_roster_at)
select case when m = 1 then u.id end, 'us', 'retail', 1, 'area-52',
       g.blizzard_id * 100 + m, 'M' || g.id || '_' || m, 80, g.id, m %% 10, %(t)s, %(t)s, %(t)s
from guilds g
join users u on u.battlenet_id = g.blizzard_id - 1000000
cross join generate_series(1, %(members)s) m
"""

# One simulated day of roster syncs: per guild, CHURN_PER_DAY members of no user leave (their
# last sighting stays), as many new ones join, and every member is seen at that day's time.
DAY = """
with leavers as (
  select distinct on (c.guild_id) c.id from characters c
  where c.guild_id is not null and c.user_id is null
  order by c.guild_id, random()
)
update characters set guild_id = null, guild_rank = null, updated_at = %(t)s
where id in (select id from leavers);
insert into characters (region, flavor, realm_id, realm_slug, blizzard_id, name, level,
                        guild_id, guild_rank, enriched_at, created_at, last_seen_in_roster_at)
select 'us', 'retail', 1, 'area-52', %(base)s + g.id, 'N' || %(base)s || '_' || g.id, 10, g.id, 9,
       %(t)s, %(t)s, %(t)s
from guilds g where g.name like 'Churn %%';
update characters set last_seen_in_roster_at = %(t)s where guild_id is not null;
update guilds set roster_synced_at = %(t)s, updated_at = %(t)s where name like 'Churn %%';
"""


def measure(stack: Stack) -> dict[str, object]:
    """The simulation; the table's size every 30 days and the prune's time."""
    samples: list[tuple[int, int, int, int]] = []  # day, characters, MB x 100, history rows
    prune_ms: list[float] = []
    removed = 0
    with psycopg.connect(stack.cluster.dsn(), autocommit=True) as conn:
        for statement in SETUP.split(";"):
            conn.execute(statement, {"guilds": GUILDS, "members": MEMBERS, "t": START})
        started = time.monotonic()
        for day in range(1, DAYS + 1):
            at = START + timedelta(days=day)
            for statement in DAY.split(";")[:-1]:
                conn.execute(statement, {"t": at, "base": 100_000_000 + day * 100_000})
            t0 = time.monotonic()
            row = conn.execute(
                "select public.prune_characters(p_after_days => %s, p_now => %s)",
                (AFTER_DAYS, at),
            ).fetchone()
            prune_ms.append((time.monotonic() - t0) * 1000)
            if day % 3 == 0:
                conn.execute("vacuum characters")  # what autovacuum does meanwhile
            removed += int(row[0]["characters"]) if row else 0
            if day % 30 == 0 or day == DAYS:
                count, size, history = conn.execute(
                    "select (select count(*) from characters), "
                    "pg_total_relation_size('characters'), "
                    "(select count(*) from character_history)"
                ).fetchone()  # type: ignore[misc]
                samples.append((day, count, size * 100 // 1024 // 1024, history))
        seconds = time.monotonic() - started
        users_kept = conn.execute(
            "select count(*) from characters where user_id is not null"
        ).fetchone()[0]  # type: ignore[index]
        guilds = conn.execute("select count(*) from guilds").fetchone()[0]  # type: ignore[index]
    prune_ms.sort()
    return {
        "samples": samples,
        "removed": removed,
        "without_prune": GUILDS * MEMBERS + GUILDS * CHURN_PER_DAY * DAYS,
        "prune_median_ms": prune_ms[len(prune_ms) // 2],
        "prune_max_ms": prune_ms[-1],
        "seconds": seconds,
        "users_kept": users_kept,
        "guilds": guilds,
    }


def report(run: Run) -> list[Report]:
    sql(run.stack, "truncate users, characters, guilds, prune_runs cascade")
    p = measure(run.stack)
    samples = p["samples"]
    assert isinstance(samples, list)
    return [
        Report(
            f"growth: {GUILDS} guilds of {MEMBERS}, {CHURN_PER_DAY} member per guild replaced "
            f"daily for {DAYS} days, prune after {AFTER_DAYS} days",
            ("day", "characters", "table MB", "history rows"),
            [(str(d), f"{n:,}", f"{mb / 100:.2f}", f"{h:,}") for d, n, mb, h in samples],
        ),
        Report(
            "growth: the prune",
            ("", "value"),
            [
                ("characters without pruning", f"{p['without_prune']:,}"),
                ("characters pruned in the year", f"{p['removed']:,}"),
                ("users' characters kept", f"{p['users_kept']:,}"),
                ("guilds left", f"{p['guilds']:,}"),
                ("prune per day: median (ms)", f"{p['prune_median_ms']:.1f}"),
                ("prune per day: max (ms)", f"{p['prune_max_ms']:.1f}"),
                ("simulation time (s)", f"{p['seconds']:.1f}"),
            ],
        ),
    ]
