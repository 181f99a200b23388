"""Fresh per day, in compressed time: how many characters one client id keeps fresh.

A population across guilds (the emulator's POST /_emulator/population): an active share that
logged in within the last day at max level (the 6-hour refresh tier, snapshots on), the rest
dormant (the 7-day tier); active characters change at CHANGE_RATE a simulated day (level, gear,
now and then guild) and rosters churn. A few real users log in through the gateway with one
character in each guild (auto-sync daily, so profile syncs and rosters are in the plan); the
rest are roster-only characters stored with their freshness spread over their interval, so the
run starts in steady state.

Then a simulated day on a compressed clock, 1 simulated hour = WINDOW real seconds, which is
also the budget window (BUDGET requests, reserve RESERVE): the commands of `cron.job` (whatever
the scheduler is when the run reads it; the pg_net consumer job aside) run when their schedule
comes due, and two consumer processes drain the queues. Production SQL compares stored times
with now(); the run ages the data instead: before each job and at each simulated hour it moves
the freshness columns back by (simulated time elapsed - real time elapsed). last_login_at and
the Last-Modified columns stay: they are Battle.net's times on the real clock (tiers, snapshots).

Measured per size: the share of active characters refreshed within 6 h and of dormant within 7
days (sampled each simulated hour after a warm-up), requests per window against the budget,
the bulk share used (rate_limit_windows), requests per refresh (unchanged, changed, snapshot)
and the cost per character per simulated day. N (the largest population for which the
targets hold) comes from runs at several sizes: the first size, one estimated from the first
run's measured cost per character, and one more either side of the estimate.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from devtools.bench.budget import budget_gateway
from devtools.bench.common import Report, Run, reset, sql, wait_for_empty
from devtools.bench.cron import Schedule
from devtools.client import StackClient
from devtools.stack import Stack

WINDOW = 5  # real seconds of one simulated hour, and of the budget window
BUDGET = 200  # Battle.net requests per window (40/s, as in the budget scenario)
RESERVE = 0.2
BLIZZARD_PER_HOUR = 36_000
ENV = {
    "BLIZZARD_RATE_WINDOW_S": str(WINDOW),
    "BLIZZARD_RATE_PER_HOUR": str(BUDGET),
    "BLIZZARD_INTERACTIVE_RESERVE": str(RESERVE),
}
WARMUP_HOURS = 6  # one whole interval of the active tier before anything is counted
STEP = timedelta(minutes=10)  # the data is aged to the simulated clock this often
HOURS = int(os.environ.get("BENCH_FRESH_HOURS", "24"))  # measured, after the warm-up
GUILDS = 40
USERS = 4
USER_CHARACTERS = GUILDS // USERS  # one user character in every guild
USER_ACCOUNTS = 940_001
ACTIVE_SHARE = 0.25
CHANGE_RATE = 0.5  # changes per active character per simulated day
ROSTER_CHURN = 0.02  # share of a guild's members replaced per simulated day
SEED = 19
FIRST_SIZE = int(os.environ.get("BENCH_FRESH_FIRST_SIZE", "1600"))
RUNS = int(os.environ.get("BENCH_FRESH_RUNS", "3"))
TARGET = 0.99
CONSUMER_ARGS = ("--concurrency", "16", "--idle-pause", "0.25")

#: The columns the job bodies compare with now() (enqueue_*, character_refresh_interval's
#: tier is on last_login_at, which stays). One statement per table: no lock across tables.
SHIFT = (
    # rows locked in id order, as the consumers' batches lock them (no deadlock between them)
    "update characters c set refreshed_at = refreshed_at - %(d)s, "
    "enriched_at = enriched_at - %(d)s, created_at = created_at - %(d)s, "
    "last_enqueued_at = last_enqueued_at - %(d)s, "
    "last_seen_in_roster_at = last_seen_in_roster_at - %(d)s, "
    "archived_at = archived_at - %(d)s "
    "from (select id from characters order by id for update) l where c.id = l.id",
    "update guilds set roster_synced_at = roster_synced_at - %(d)s, "
    "created_at = created_at - %(d)s",
    "update users set last_profile_sync_at = last_profile_sync_at - %(d)s, "
    "last_enqueued_at = last_enqueued_at - %(d)s",
)

INSERT_GUILDS = """
insert into guilds as g (region, flavor, blizzard_id, name, slug, realm_id, realm_slug, faction,
                         member_count, roster_synced_at)
select x->>'region', 'retail', (x->>'id')::bigint, x->>'name', x->>'slug',
       (x->>'realm_id')::int, x->>'realm', x->>'faction', (x->>'members')::int,
       now() - random() * interval '24 hours'
from jsonb_array_elements(%s::jsonb) x
on conflict (region, flavor, blizzard_id) do update
  set roster_synced_at = excluded.roster_synced_at, member_count = excluded.member_count
"""
INSERT_CHARACTERS = """
insert into characters (region, flavor, realm_id, realm_slug, blizzard_id, name, level,
                        average_item_level, equipped_item_level,
                        last_login_at, last_modified, guild_id, created_at, enriched_at,
                        last_seen_in_roster_at)
select x->>'region', 'retail', (x->>'realm_id')::int, x->>'realm', (x->>'id')::bigint,
       x->>'name', (x->>'level')::int, (x->>'item_level')::int,
       (x->>'equipped_item_level')::int, to_timestamp((x->>'last_login')::bigint / 1000.0),
       to_timestamp((x->>'last_modified')::bigint),
       (select g.id from guilds g where g.blizzard_id = (x->>'guild_id')::bigint),
       now() - interval '30 days', now() - interval '30 days', now()
from jsonb_array_elements(%s::jsonb) x
"""
#: Steady state: each character last refreshed at a uniform point of its interval.
STAGGER = """
update characters c set refreshed_at = now() - random() * character_refresh_interval(c),
                        last_enqueued_at = null
"""
SHARES = """
select count(*) filter (where tier = interval '6 hours'),
       count(*) filter (where tier = interval '6 hours' and age <= interval '6 hours'),
       count(*) filter (where tier = interval '6 hours' and age <= interval '7 hours'),
       count(*) filter (where tier = interval '7 days'),
       count(*) filter (where tier = interval '7 days' and age <= interval '7 days'),
       count(*) filter (where tier = interval '7 days' and age <= interval '7 days 1 hour')
from (select character_refresh_interval(c) as tier,
             now() - coalesce(c.refreshed_at, c.enriched_at, c.created_at) as age
      from characters c where c.is_active) x
"""


@dataclass
class Job:
    name: str
    cron: str
    command: str

    @property
    def schedule(self) -> Schedule:
        return Schedule.parse(self.cron)


@dataclass
class Day:
    """What one simulated day at one size measured."""

    size: int
    active: int = 0
    dormant: int = 0
    active_6h: list[float] = field(default_factory=list)
    active_7h: list[float] = field(default_factory=list)
    dormant_7d: list[float] = field(default_factory=list)
    dormant_7d1h: list[float] = field(default_factory=list)
    windows: list[int] = field(default_factory=list)
    bulk_used: int = 0
    bulk_cap: int = 0
    interactive_used: int = 0
    refused: int = 0
    endpoints: dict[str, int] = field(default_factory=dict)
    not_modified: dict[str, int] = field(default_factory=dict)
    snapshots: dict[str, int] = field(default_factory=dict)
    history: int = 0
    jobs_run: dict[str, int] = field(default_factory=dict)
    schedules: dict[str, str] = field(default_factory=dict)
    backlog_end: int = 0
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(self.windows)

    def holds(self, slack: bool) -> bool:
        """The targets: 99 % of active within 6 h and of dormant within 7 days, every sample,
        and no window over budget. With `slack`, one hour (the refresh job's period) more."""
        active = self.active_7h if slack else self.active_6h
        dormant = self.dormant_7d1h if slack else self.dormant_7d
        return min(active) >= TARGET and min(dormant) >= TARGET and max(self.windows) <= BUDGET


def cron_jobs(stack: Stack) -> list[Job]:
    """cron.job as it stands, without the job that calls the consumer over pg_net."""
    rows = sql(stack, "select jobname, schedule, command from cron.job where active order by 1")
    return [
        Job(name, schedule, command)
        for name, schedule, command in rows
        if "invoke_queue_consumer" not in command
    ]


class Clock:
    """The compressed clock: simulated time `sim0 + (real - real0) * 3600 / WINDOW`, and the
    data aged to it on `advance`."""

    def __init__(self, stack: Stack, sim0: datetime, real0: float) -> None:
        self.stack, self.sim0, self.real0 = stack, sim0, real0
        self.data_sim, self.data_real = sim0, real0  # the data's clock was last set here
        self.conn = psycopg.connect(stack.cluster.dsn(), autocommit=True)

    def real(self, sim: datetime) -> float:
        return self.real0 + (sim - self.sim0).total_seconds() * WINDOW / 3600

    def sleep_until(self, sim: datetime) -> None:
        time.sleep(max(0.0, self.real(sim) - time.time()))

    def advance(self, sim: datetime) -> None:
        """Age the stored times so the job bodies' now() reads as `sim`."""
        real = time.time()
        shift = (sim - self.data_sim).total_seconds() - (real - self.data_real)
        for statement in SHIFT:
            for attempt in range(20):
                try:
                    self.conn.execute(statement, {"d": timedelta(seconds=shift)})
                    break
                except psycopg.errors.DeadlockDetected:
                    if attempt == 19:
                        raise
                    time.sleep(0.02)
        self.data_sim, self.data_real = sim, real

    def run(self, job: Job, day: Day) -> None:
        self.conn.execute(job.command.encode())  # as cron does: the text as it is
        day.jobs_run[job.name] = day.jobs_run.get(job.name, 0) + 1
        day.schedules[job.name] = f"{job.cron}: {job.command}"

    def close(self) -> None:
        self.conn.close()


def user_characters(u: int, guilds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    login = int(time.time() * 1000) - 3_600_000
    chars = []
    for i in range(USER_CHARACTERS):
        guild = guilds[u * USER_CHARACTERS + i]
        chars.append(
            {
                "id": 9_400_000 + u * 100 + i,
                "name": f"Fresh{chr(97 + u)}{chr(97 + i)}",
                "region": "us",
                "flavor": "retail",
                "realm": guild["realm"],
                "guild": guild["name"],
                "level": 80,
                "item_level": 610,
                "last_login": login,
            }
        )
    return chars


def populate(stack: Stack, client: StackClient, gateway: str, size: int) -> dict[str, Any]:
    """The population in the emulator and the database, the users logged in and synced."""
    client.admin(
        "POST",
        "/config",
        {
            "latency_ms": 20,
            "rate_limit": 100,
            "day_seconds": 24 * WINDOW,
            "change_rate": CHANGE_RATE,
            "roster_churn": ROSTER_CHURN,
        },
    )
    body = {"guilds": GUILDS, "members": size // GUILDS, "active_share": ACTIVE_SHARE}
    population: dict[str, Any] = client.admin("POST", "/population", {**body, "seed": SEED})
    for u in range(USERS):
        chars = user_characters(u, population["guilds"])
        client.admin("PUT", f"/accounts/{USER_ACCOUNTS + u}", {"characters": chars})
    user = StackClient(gateway, client.emulator, client.http)
    for u in range(USERS):
        user.login(USER_ACCOUNTS + u)  # queues the first sync
    sql(stack, INSERT_GUILDS, json.dumps(population["guilds"]))
    sql(stack, INSERT_CHARACTERS, json.dumps(population["characters"]))
    return population


def settle(stack: Stack) -> None:
    """After the first syncs: users on daily auto-sync, spread over the day; every character's
    freshness spread over its interval; nothing queued."""
    wait_for_empty(stack, "character_sync", timeout=120)
    time.sleep(1)
    queues = ["character_refresh", "profile_sync", "guild_roster"]
    sql(stack, "select pgmq.purge_queue(q) from unnest(%s::text[]) q", queues)
    sql(
        stack,
        "update users u set auto_sync = 'daily', last_enqueued_at = null, "
        "last_profile_sync_at = now() - interval '24 hours' * s.k / %s "
        "from (select id, row_number() over (order by battlenet_id) - 1 as k from users) s "
        "where s.id = u.id",
        USERS,
    )
    sql(stack, STAGGER)


def counts(stack: Stack) -> dict[str, int]:
    rows = sql(stack, "select kind, count(*) from character_snapshots group by kind")
    found = {kind: n for kind, n in rows}
    found["history"] = sql(stack, "select count(*) from character_history")[0][0]
    return found


def service_status(stack: Stack, client: StackClient, gateway: str) -> dict[str, Any]:
    response = client.http.get(
        f"{gateway}/functions/v1/queue-consumer/status",
        headers={"Authorization": f"Bearer {stack.service_key()}"},
    )
    return dict(response.json()) if response.status_code == 200 else {}


@contextmanager
def cron_paused(stack: Stack) -> Iterator[list[Job]]:
    """cron.job's jobs, with pg_cron's own runs on the real clock paused meanwhile (the run
    calls their commands on the compressed clock)."""
    jobs = cron_jobs(stack)
    active = [r[0] for r in sql(stack, "select jobid from cron.job where active")]
    sql(stack, "select cron.alter_job(j, active => false) from unnest(%s::bigint[]) j", active)
    try:
        yield jobs
    finally:
        sql(stack, "select cron.alter_job(j, active => true) from unnest(%s::bigint[]) j", active)


def simulate(stack: Stack, client: StackClient, size: int) -> Day:
    """One simulated day (after the warm-up) at `size` characters."""
    day = Day(size)
    with (
        cron_paused(stack) as jobs,
        budget_gateway(stack, ENV) as gateway,
        stack.consumers(2, *CONSUMER_ARGS, **ENV),
    ):
        populate(stack, client, gateway, size)
        settle(stack)
        frequent = [j for j in jobs if j.schedule.per_hour > 4]  # housekeeping: once an hour
        timed = [j for j in jobs if j.schedule.per_hour <= 4]
        client.admin("POST", "/stats/reset")
        before = counts(stack)
        real0 = (int(time.time()) // WINDOW + 1) * WINDOW
        sim0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        clock = Clock(stack, sim0, real0)
        try:
            for hour in range(WARMUP_HOURS + HOURS + 1):
                start = sim0 + timedelta(hours=hour)
                clock.sleep_until(start)
                clock.advance(start)
                if hour >= WARMUP_HOURS:
                    sample(stack, day)
                if hour == WARMUP_HOURS + HOURS:
                    break
                for job in frequent:
                    clock.run(job, day)
                end = start + timedelta(hours=1)
                due = sorted((t, j.name) for j in timed for t in j.schedule.firings(start, end))
                # the data aged every STEP too, so what the consumers write between jobs is
                # stamped within a STEP of its simulated time
                steps = [(start + STEP * k, "") for k in range(1, int(timedelta(hours=1) / STEP))]
                for at, name in sorted(due + steps):
                    clock.sleep_until(at)
                    clock.advance(at)
                    if name:
                        clock.run(next(j for j in timed if j.name == name), day)
        finally:
            clock.close()
        day.status = service_status(stack, client, gateway)
        day.backlog_end = sum(
            n for _, n in sql(stack, "select queue_name, queue_length from pgmq.metrics_all()")
        )
    measure(stack, client, day, before, real0)
    return day


def sample(stack: Stack, day: Day) -> None:
    active, a6, a7, dormant, d7, d71 = sql(stack, SHARES)[0]
    day.active, day.dormant = active, dormant
    day.active_6h.append(a6 / max(1, active))
    day.active_7h.append(a7 / max(1, active))
    day.dormant_7d.append(d7 / max(1, dormant))
    day.dormant_7d1h.append(d71 / max(1, dormant))


def measure(
    stack: Stack, client: StackClient, day: Day, before: dict[str, int], real0: int
) -> None:
    first = real0 + WARMUP_HOURS * WINDOW
    windows = client.requests_per_window(WINDOW)
    day.windows = [windows.get(first // WINDOW + i, 0) for i in range(HOURS)]
    stats = client.admin("GET", "/stats")
    day.endpoints = stats["by_endpoint"]
    day.not_modified = stats["not_modified_by_endpoint"]
    used, interactive, refused = sql(
        stack,
        "select coalesce(sum(bulk_used), 0), "
        "coalesce(sum(interactive_used), 0), coalesce(sum(refused), 0) "
        "from rate_limit_windows where window_s = %s "
        "and window_start >= to_timestamp(%s) and window_start < to_timestamp(%s)",
        WINDOW,
        first,
        first + HOURS * WINDOW,
    )[0]
    # windows without bulk requests have no row: count their share as unused
    day.bulk_used, day.bulk_cap = int(used), HOURS * int(BUDGET * (1 - RESERVE))
    day.interactive_used, day.refused = int(interactive), int(refused)
    after = counts(stack)
    day.snapshots = {k: after.get(k, 0) - before.get(k, 0) for k in ("equipment", "talents")}
    day.history = after["history"] - before["history"]


# --- the search and the report ---------------------------------------------------------------


def cost_per_character(day: Day) -> float:
    """API requests per character per simulated day (the warm-up aside)."""
    return day.requests / day.size * 24 / HOURS


def next_size(days: list[Day]) -> int:
    """The next size to run. After the first: the size whose requests would fill the bulk share,
    from the first run's measured cost per character. Then halfway between the largest size
    that held and the smallest larger one that did not (x 1.3 or x 0.6 when there is none)."""
    if len(days) == 1:
        estimate = BUDGET * (1 - RESERVE) * 24 / cost_per_character(days[0])
    else:
        held = [d.size for d in days if d.holds(slack=False)]
        bigger = max(held, default=0)
        failed = [d.size for d in days if not d.holds(slack=False) and d.size > bigger]
        if held and failed:
            estimate = (max(held) + min(failed)) / 2
        elif held:
            estimate = max(held) * 1.3
        else:
            estimate = min(failed) * 0.6
    return max(GUILDS, int(estimate) // GUILDS * GUILDS)


def search(stack: Stack, client: StackClient) -> list[Day]:
    days: list[Day] = []
    size = FIRST_SIZE
    for i in range(RUNS):
        if i:
            reset(stack, client)
            size = next_size(days)
            if size in {d.size for d in days}:
                break
        print(f"fresh: simulating a day of {size:,} characters", flush=True)
        days.append(simulate(stack, client, size))
    return sorted(days, key=lambda d: d.size)


def pct(values: list[float]) -> str:
    return f"{min(values):.1%} / {values[-1]:.1%}" if values else "-"


LABELS = (
    "characters (active 6-h tier / dormant 7-day tier)",
    "active refreshed within 6 h: min / at end",
    "active within 7 h (6 h + the hourly job): min / end",
    "dormant refreshed within 7 days: min / at end",
    "dormant within 7 days 1 h: min / at end",
    f"requests per window: max / median (budget {BUDGET})",
    "bulk share used (bulk_used / bulk_cap)",
    "interactive requests / limiter refusals (consumers waiting)",
    "unchanged refreshes (304) x requests each",
    "changed refreshes (profile 200 + media) x requests each",
    "snapshots (equipment rows) x equipment + talents requests each",
    "snapshot rows stored: equipment / talents",
    "history rows written",
    "other requests (account, guild, roster, protected)",
    "requests per profile refresh, all kinds",
    "requests per character per simulated day",
    "queued at the end",
    "targets hold (as stated / with the job's hour)",
)


def column(d: Day) -> list[str]:
    """One size's numbers, in the order of LABELS."""

    def per(endpoint: str) -> int:
        return int(d.endpoints.get(endpoint, 0))

    profiles = per("character-profile")
    unchanged = int(d.not_modified.get("character-profile", 0))
    changed = profiles - unchanged
    equipment = d.snapshots.get("equipment", 0)
    snapshot_requests = per("character-equipment") + per("character-specializations")
    other = sum(per(e) for e in ("account-profile", "guild", "guild-roster", "protected-character"))
    yes = {True: "yes", False: "no"}
    return [
        f"{d.size:,} ({d.active:,} / {d.dormant:,})",
        pct(d.active_6h),
        pct(d.active_7h),
        pct(d.dormant_7d),
        pct(d.dormant_7d1h),
        f"{max(d.windows)} / {statistics.median(d.windows):.0f}",
        f"{d.bulk_used / max(1, d.bulk_cap):.0%} ({d.bulk_used:,}/{d.bulk_cap:,})",
        f"{d.interactive_used} / {d.refused}",
        f"{unchanged:,} x 1.00",
        f"{changed:,} x {(changed + per('character-media')) / max(1, changed):.2f}",
        f"{equipment:,} x {snapshot_requests / max(1, equipment):.2f}",
        f"{equipment:,} / {d.snapshots.get('talents', 0):,}",
        f"{d.history:,}",
        f"{other:,}",
        f"{d.requests / max(1, profiles):.2f}",
        f"{cost_per_character(d):.3f}",
        f"{d.backlog_end:,}",
        f"{yes[d.holds(slack=False)]} / {yes[d.holds(slack=True)]}",
    ]


def rows_for(days: list[Day]) -> list[tuple[str, ...]]:
    columns = [column(d) for d in days]
    return [(label, *(c[i] for c in columns)) for i, label in enumerate(LABELS)]


def plan_fields(status: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for key, value in status.items():
        if "plan" in key.lower():
            found.append((f"status: {key}", json.dumps(value)[:200]))
        elif isinstance(value, dict):
            found += [
                (f"status: {key}.{k}", json.dumps(v)[:200])
                for k, v in value.items()
                if "plan" in k.lower()
            ]
    return found


def report(run: Run) -> list[Report]:
    days = search(run.stack, run.api)
    held = [d for d in days if d.holds(slack=False)]
    held_slack = [d for d in days if d.holds(slack=True)]
    scale = BLIZZARD_PER_HOUR / BUDGET
    bulk_per_day = BUDGET * (1 - RESERVE) * 24

    def found(chosen: list[Day]) -> str:
        if not chosen:
            return "none of the sizes run"
        n = max(d.size for d in chosen)
        return (
            f"{n:,} at {BUDGET}/window; x {scale:.0f} = {n * scale:,.0f} at {BLIZZARD_PER_HOUR:,}/h"
        )

    estimates = [
        (
            f"estimate: bulk share / measured cost at {d.size:,} "
            f"({cost_per_character(d):.3f} req/char/day)",
            f"{bulk_per_day / cost_per_character(d):,.0f} at {BUDGET}/window; "
            f"{bulk_per_day / cost_per_character(d) * scale:,.0f} at {BLIZZARD_PER_HOUR:,}/h",
        )
        for d in days
    ]
    status = plan_fields(days[-1].status) or [
        ("status: plan fields", "none in /queue-consumer/status (keys: "
         + ", ".join(sorted(days[-1].status)) + ")")
    ]  # fmt: skip
    return [
        Report(
            f"fresh per day: 1 simulated hour = {WINDOW} s, budget {BUDGET} requests per window "
            f"(reserve {RESERVE:.0%}), {WARMUP_HOURS} h warm-up + {HOURS} h measured, "
            f"{GUILDS} guilds, {USERS} users on daily auto-sync, active {ACTIVE_SHARE:.0%}, "
            f"{CHANGE_RATE} changes/active/day, roster churn {ROSTER_CHURN:.0%}/day",
            ("", *(f"N = {d.size:,}" for d in days)),
            rows_for(days),
        ),
        Report(
            "characters one client id keeps fresh per day (largest N run for which the targets "
            "held; the 36,000/h figure is that N scaled by the budget ratio, not a run)",
            ("", "characters"),
            [
                ("targets as stated (6 h / 7 days, 99 %)", found(held)),
                ("allowing the hourly job's period (7 h / 7 d 1 h)", found(held_slack)),
                *estimates,
                *status,
            ],
        ),
        Report(
            f"cron.job as the run found it, run on the compressed clock (N = {days[-1].size:,}; "
            "jobs firing more than 4 times an hour run once per simulated hour; the pg_net "
            "consumer job left to the 2 consumer processes)",
            ("job", "times run", "schedule: command"),
            [
                (name, str(days[-1].jobs_run[name]), days[-1].schedules[name][:90])
                for name in sorted(days[-1].jobs_run)
            ],
        ),
    ]
