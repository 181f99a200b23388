"""Stand-ins for what hosted Supabase has and plain Postgres lacks (Realtime's schema, pg_net,
Vault), created in the test database for one test and dropped after it. Their SQL is in
`standins/`, shaped like the real thing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.db.psycopg_adapter import PsycopgDatabase

STANDINS = Path(__file__).parent / "standins"
CONSUMER_JOB = "guild-sync-queue-consumer"


@pytest.fixture
def realtime(db: PsycopgDatabase) -> Iterator[PsycopgDatabase]:
    """A `realtime` schema like Supabase's, with the migrations' sync-topic policy on it."""
    with db.connection() as conn:
        conn.execute((STANDINS / "realtime.sql").read_text())  # type: ignore[arg-type]
        installed = conn.execute("select public.install_realtime_sync_policy() as ok").fetchone()
        assert installed == {"ok": True}
    try:
        yield db
    finally:
        with db.connection() as conn:
            conn.execute("drop schema realtime cascade")


@pytest.fixture
def net_and_vault(db: PsycopgDatabase) -> Iterator[PsycopgDatabase]:
    """pg_net and Vault stand-ins holding the consumer's two secrets. The cluster's own
    every-minute consumer job is paused meanwhile, so every request seen is the test's."""
    with db.connection() as conn:
        conn.execute(
            "select cron.alter_job(jobid, active := false) from cron.job where jobname = %s",
            (CONSUMER_JOB,),
        )
        conn.execute((STANDINS / "net_and_vault.sql").read_text())  # type: ignore[arg-type]
        conn.execute(
            "insert into vault.secrets (name, secret) values "
            "('guild_sync_functions_url', 'https://functions.test.invalid/functions/v1/'), "
            "('guild_sync_service_role_key', 'sb_secret_test-vault-key-0123456789')"
        )
    try:
        yield db
    finally:
        with db.connection() as conn:
            conn.execute("drop schema net cascade")
            conn.execute("drop schema vault cascade")
            conn.execute(
                "select cron.alter_job(jobid, active := true) from cron.job where jobname = %s",
                (CONSUMER_JOB,),
            )
