"""A project that has not migrated: a second gateway on the same database and emulator, given
SUPABASE_JWT_SECRET only. Logins mint HS256 sessions, the legacy service-role JWT runs the
consumer, and the new keys of the suite's stack are refused there (and its HS256 tokens here)."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest

from devtools.pgcluster import Cluster
from devtools.stack import Stack, StackConfig
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.conftest import TEST_EMULATOR_PORT, TEST_GATEWAY_PORT
from tests.e2e.conftest import E2E, LOG_DIR, TEST_KEYS, stack_env

LEGACY_GATEWAY_PORT = TEST_GATEWAY_PORT + 6  # beside test_other_server's +4 and +5
LEGACY_SECRET = "legacy-project-jwt-secret-" + "L" * 24


@pytest.fixture
def legacy(stack: Stack, cluster: Cluster, db: PsycopgDatabase) -> Iterator[E2E]:
    env = {**stack_env(db.dsn), "SUPABASE_JWT_SECRET": LEGACY_SECRET}
    config = StackConfig(
        root=cluster.root,
        db_port=cluster.port,
        gateway_port=LEGACY_GATEWAY_PORT,
        emulator_port=TEST_EMULATOR_PORT,  # the suite's emulator
        consumer=False,
        log_dir=LOG_DIR,
        keys=TEST_KEYS,
    )
    server = Stack(config, base_env=env)
    assert "SUPABASE_JWT_SIGNING_KEY" not in server.env()
    assert "SUPABASE_SECRET_KEYS" not in server.env()
    server.start_gateway()
    harness = E2E(server, db)
    harness.emulator("POST", "/reset")
    yield harness
    harness.http.close()
    server.stop(database=False)


def test_a_login_sync_and_operator_calls_on_the_legacy_secret(legacy: E2E, e2e: E2E) -> None:
    legacy.set_characters(230, [{"name": f"Legacy{c}", "realm": "area-52"} for c in "ab"])
    session = legacy.login(230)
    header = jwt.get_unverified_header(session.token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        session.token, LEGACY_SECRET, algorithms=["HS256"], audience="authenticated"
    )
    assert claims["iss"] == "supabase" and claims["sub"] == session.user_id
    started = legacy.sync(session)
    assert started.status_code == 202, started.text
    assert legacy.service["Authorization"].count(".") == 2  # a service-role JWT
    legacy.consume_all()
    listed = legacy.http.get(f"{legacy.gw}/api/v1/characters", headers=session.headers).json()
    assert sorted(c["name"] for c in listed["characters"]) == ["Legacya", "Legacyb"]
    # the other project's credentials, each refused where it does not belong
    queue = "/functions/v1/queue-consumer"
    assert legacy.http.post(legacy.gw + queue, json={}, headers=e2e.service).status_code == 401
    assert e2e.http.post(e2e.gw + queue, json={}, headers=legacy.service).status_code == 401
    on_new_keys = e2e.http.get(f"{e2e.gw}/api/v1/characters", headers=session.headers)
    assert on_new_keys.status_code == 401
    assert on_new_keys.json()["error"]["message"] == "HS256 tokens are not accepted: sign in again"
    new_session = e2e.login(231)
    assert jwt.get_unverified_header(new_session.token)["alg"] == "ES256"
    refused = legacy.http.get(f"{legacy.gw}/api/v1/characters", headers=new_session.headers)
    assert refused.status_code == 401
