"""Fixtures shared by every test layer.

Integration, handler and end-to-end tests run on a real PostgreSQL 15 cluster with pg_cron and
pgmq, shaped like a hosted Supabase project: the suite's own cluster under `.local/test-pg` on
port 25432 (below the ephemeral port range, and beside `make run`'s), its superuser
`supabase_admin`, `postgres` not a superuser, pgmq created as an extension at the version hosted
ships (1.4.4; GUILD_SYNC_PGMQ_VERSION=1.5.1 for the second pass, on a cluster of its own), and
`supabase/migrations` plus `seed.sql` pushed by the real Supabase CLI (`supabase db push`);
tables truncated between tests.

With GUILD_SYNC_TEST_POOLER=1 the code under test reaches that cluster through pgbouncer in
transaction mode (port TEST_POOLER_PORT, 25434), as on Supabase's pooler: the `db` fixtures and
the end-to-end stack use `database_url`. The migration runner and checks that need a session
of their own keep the direct connection (`cluster.dsn()`).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.migrate import PGMQ_VERSION, prepare_platform
from devtools.pgcluster import Cluster
from devtools.pooler import Pooler
from devtools.supabase_cli import db_push
from shared.auth.keys import generate_signing_key
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# The recorded Battle.net samples beside the repository (../shared), else the copy in tests/.
SAMPLES = next(
    p
    for p in (ROOT.parent / "shared" / "bnet-samples", ROOT / "tests" / "fixtures" / "bnet-samples")
    if p.is_dir()
)
TEST_DB_PORT = int(os.environ.get("TEST_DB_PORT", "25432"))
TEST_GATEWAY_PORT = int(os.environ.get("TEST_GATEWAY_PORT", "25431"))
TEST_EMULATOR_PORT = int(os.environ.get("TEST_EMULATOR_PORT", "25433"))
TEST_POOLER_PORT = int(os.environ.get("TEST_POOLER_PORT", "25434"))
THROUGH_POOLER = os.environ.get("GUILD_SYNC_TEST_POOLER", "") == "1"
TEST_API = "https://test.api.invalid"
TEST_OAUTH = "https://oauth.test.invalid"
#: Secrets for settings in production mode (a client id is set): strong, and not the defaults.
TEST_JWT_SECRET = "test-jwt-secret-" + "0123456789abcdef" * 3
TEST_TOKEN_KEY = "test-k1:" + base64.urlsafe_b64encode(b"guild-sync-test-key-of-32-bytes!").decode()
#: The new keys (the default of the suite): a private ES256 JWK made as the Supabase CLI's
#: `gen signing-key` makes it (in Python: fast), and a `sb_secret_` key.
TEST_SIGNING_KEY = json.dumps(generate_signing_key("ES256"))
TEST_SECRET_KEY = "sb_secret_test_" + base64.urlsafe_b64encode(os.urandom(18)).decode()


def make_settings(**overrides: object) -> Settings:
    """Settings as a deploy on the new keys has them (production mode: a client id, a signing
    key and a secret key, no legacy JWT secret). `legacy_settings` for the legacy secret."""
    values: dict[str, object] = {
        "database_url": f"postgresql://postgres@127.0.0.1:{TEST_DB_PORT}/postgres",
        "blizzard_client_id": "test-client",
        "blizzard_client_secret": "test-secret",
        "blizzard_api_url": TEST_API,
        "blizzard_oauth_url": TEST_OAUTH,
        "supabase_jwt_signing_key": TEST_SIGNING_KEY,
        "supabase_secret_keys": TEST_SECRET_KEY,
        "token_encryption_key": TEST_TOKEN_KEY,
        "oauth_redirect_uri": "http://127.0.0.1:54321/functions/v1/oauth-flow/callback",
        "oauth_allowed_redirects": "http://localhost:3000,http://127.0.0.1:3000",
    }
    values.update(overrides)
    return Settings.model_validate(values)


def legacy_settings(**overrides: object) -> Settings:
    """Settings of a project that has not migrated: the legacy JWT secret only."""
    return make_settings(
        supabase_jwt_signing_key=None,
        supabase_secret_keys=None,
        supabase_jwt_secret=TEST_JWT_SECRET,
        **overrides,
    )


def said_to_client(body: str) -> str:
    """An error answer's text without its error id: the id is random hex, so it may hold any
    digits ("503") by chance; what a test checks is that nothing else says them."""
    error_id = json.loads(body)["error"]["id"]
    return body.replace(error_id, "")


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    folder = "test-pg" if PGMQ_VERSION == "1.4.4" else f"test-pg-pgmq{PGMQ_VERSION}"
    if TEST_DB_PORT != 25432:  # a suite on other ports gets a cluster of its own
        folder += f"-{TEST_DB_PORT}"
    cluster = Cluster(ROOT / ".local" / folder, TEST_DB_PORT, fast=True)
    cluster.init()
    cluster.start()
    prepare_platform(cluster.dsn(), pgmq_version=PGMQ_VERSION)
    db_push(cluster.dsn())
    yield cluster
    cluster.stop()


def pytest_report_header() -> str:
    mode = "pgbouncer (transaction mode)" if THROUGH_POOLER else "direct"
    return f"guild-sync database connections: {mode}; pgmq {PGMQ_VERSION} (hosted shape)"


@pytest.fixture(scope="session")
def pooler(cluster: Cluster) -> Iterator[Pooler]:
    """pgbouncer in transaction mode in front of the test cluster."""
    running = Pooler(ROOT / ".local" / "test-pooler", TEST_POOLER_PORT, cluster.port)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, cluster: Cluster) -> str:
    """The DSN the code under test uses: the cluster, or the pooler in front of it."""
    if THROUGH_POOLER:
        pooled: Pooler = request.getfixturevalue("pooler")
        return pooled.dsn()
    return cluster.dsn()


def truncate_all(database: PsycopgDatabase) -> None:
    with database.connection() as conn:
        conn.execute(
            """
            do $$
            declare t text; q text;
            begin
              select string_agg(format('%I.%I', schemaname, tablename), ', ') into t
              from pg_tables where schemaname = 'public';
              if t is not null then execute 'truncate ' || t || ' cascade'; end if;
              for q in select queue_name from pgmq.list_queues() loop
                perform pgmq.purge_queue(q);
                execute format('truncate pgmq.%I', 'a_' || q);
              end loop;
            end $$;
            """
        )


@pytest.fixture
def db(database_url: str) -> Iterator[PsycopgDatabase]:
    database = PsycopgDatabase(database_url, max_size=4)
    truncate_all(database)
    yield database
    database.close()
