"""Another Battle.net-compatible server with other credentials: settings only, no code change."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devtools.pgcluster import Cluster
from devtools.stack import Stack, StackConfig
from shared.crypto import generate_key
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.conftest import TEST_GATEWAY_PORT
from tests.e2e.conftest import LOG_DIR, stack_env

# Beside the suite's own ports (25435/25436 by default), so parallel suites do not collide.
OTHER_API_PORT, OTHER_GATEWAY_PORT = TEST_GATEWAY_PORT + 5, TEST_GATEWAY_PORT + 4


@pytest.fixture
def other(cluster: Cluster, db: PsycopgDatabase) -> Iterator[Stack]:
    server_env = {
        **stack_env(db.dsn),
        "BLIZZARD_CLIENT_ID": "other-id",
        "BLIZZARD_CLIENT_SECRET": "other-secret",
        # a client id means production mode: strong secrets, not the development defaults
        "SUPABASE_JWT_SECRET": "other-server-jwt-secret-" + "x" * 24,
        "TOKEN_ENCRYPTION_KEY": generate_key("other"),
    }
    server = Stack(
        StackConfig(
            emulator_port=OTHER_API_PORT, log_dir=LOG_DIR, root=cluster.root, db_port=cluster.port
        ),
        base_env=server_env,
    )
    server.start_emulator()
    base = f"http://127.0.0.1:{OTHER_API_PORT}"
    env = {**server_env, "BLIZZARD_API_URL": base, "BLIZZARD_OAUTH_URL": base + "/oauth"}
    stack = Stack(
        StackConfig(
            root=cluster.root,
            db_port=cluster.port,
            log_dir=LOG_DIR,
            gateway_port=OTHER_GATEWAY_PORT,
            consumer=False,
        ),
        base_env=env,
    )
    assert not stack.uses_emulator
    stack.start_gateway()
    yield stack
    stack.stop(database=False)
    server.stop(database=False)


def test_static_sync_against_another_server(other: Stack, db: PsycopgDatabase) -> None:
    response = httpx.post(
        f"{other.gateway_url}/functions/v1/sync-static-data",
        json={"regions": ["eu"]},
        headers={"Authorization": f"Bearer {other.service_key()}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["eu"]["retail"]["realms"] > 0
