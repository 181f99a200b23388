"""Realtime's schema and Vault are part of every hosted project, so the test cluster has them
(sql/local/002_realtime_and_vault.sql, owned by the platform's roles). pg_net is an extension a
project enables: its stand-in (`standins/net.sql`, shaped like the real thing) is created by the
platform's superuser for one test and dropped after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.pgcluster import Cluster
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.integration.helpers import as_platform

STANDINS = Path(__file__).parent / "standins"
CONSUMER_JOB = "guild-sync-queue-consumer"


@pytest.fixture
def realtime(cluster: Cluster, db: PsycopgDatabase) -> PsycopgDatabase:
    """The cluster's `realtime` schema, emptied, with the migrations' sync-topic policy on it."""
    as_platform(cluster, "truncate realtime.messages")
    return db


@pytest.fixture
def vault_secrets(cluster: Cluster, db: PsycopgDatabase) -> Iterator[PsycopgDatabase]:
    """The consumer's two secrets in Vault, put there as an operator does."""
    with db.connection() as conn:
        conn.execute(
            "select vault.create_secret('https://functions.test.invalid/functions/v1/', "
            "'guild_sync_functions_url'), "
            "vault.create_secret('sb_secret_test-vault-key-0123456789', "
            "'guild_sync_service_role_key')"
        )
    try:
        yield db
    finally:
        as_platform(cluster, "delete from vault.secrets where name like 'guild_sync_%'")


@pytest.fixture
def net_and_vault(cluster: Cluster, vault_secrets: PsycopgDatabase) -> Iterator[PsycopgDatabase]:
    """A pg_net stand-in, owned by the platform, and the two secrets. The cluster's own
    every-minute consumer job is paused meanwhile, so every request seen is the test's."""
    db = vault_secrets
    with db.connection() as conn:
        conn.execute(
            "select cron.alter_job(jobid, active := false) from cron.job where jobname = %s",
            (CONSUMER_JOB,),
        )
    as_platform(cluster, (STANDINS / "net.sql").read_text())
    try:
        yield db
    finally:
        as_platform(cluster, "drop schema net cascade")
        with db.connection() as conn:
            conn.execute(
                "select cron.alter_job(jobid, active := true) from cron.job where jobname = %s",
                (CONSUMER_JOB,),
            )
