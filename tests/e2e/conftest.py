"""End-to-end tests: the real gateway and the Battle.net emulator as processes, on the test
cluster, driven only over HTTP (and checked in the database)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devtools.local_keys import LocalKeys
from devtools.pgcluster import Cluster
from devtools.stack import Stack, StackConfig
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.conftest import ROOT, TEST_EMULATOR_PORT, TEST_GATEWAY_PORT

LOG_DIR = ROOT / ".local" / "test-logs"
#: The test stacks' new keys (made in Python, kept beside the test cluster): the default path of
#: `make run`, as a new Supabase project has them.
TEST_KEYS = LocalKeys(ROOT / ".local" / "test-keys", use_cli=False)
APP_ORIGIN = "http://localhost:3000"
APP = APP_ORIGIN + "/app"


def stack_env(dsn: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BLIZZARD_", "SUPABASE_", "TOKEN_", "OAUTH_", "DATABASE_"))
    }
    env["DATABASE_URL"] = dsn
    # the app of the API tests, and the web page the gateway under test serves itself
    env["OAUTH_ALLOWED_REDIRECTS"] = f"{APP_ORIGIN},http://127.0.0.1:{TEST_GATEWAY_PORT}"
    return env


@pytest.fixture(scope="session")
def stack(cluster: Cluster, database_url: str) -> Iterator[Stack]:
    for log in LOG_DIR.glob("*.log"):
        log.unlink()
    config = StackConfig(
        root=cluster.root,
        db_port=cluster.port,
        gateway_port=TEST_GATEWAY_PORT,
        emulator_port=TEST_EMULATOR_PORT,
        fast=True,
        consumer=False,
        log_dir=LOG_DIR,
        keys=TEST_KEYS,
    )
    running = Stack(config, base_env=stack_env(database_url))
    running.start_emulator()
    running.start_gateway()
    yield running
    running.stop(database=False)


@dataclass
class Session:
    user_id: str
    token: str
    account: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class E2E:
    stack: Stack
    db: PsycopgDatabase
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    @property
    def gw(self) -> str:
        return self.stack.gateway_url

    @property
    def emu(self) -> str:
        return self.stack.emulator_url

    @property
    def service(self) -> dict[str, str]:
        """The stack's service credential: its `sb_secret_` key as `apikey`, or a legacy
        service-role JWT as Bearer."""
        key = self.stack.service_key()
        return {"apikey": key} if key.startswith("sb_") else {"Authorization": f"Bearer {key}"}

    def emulator(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.emu}/_emulator{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def set_characters(self, account: int, characters: list[dict[str, Any]]) -> None:
        """Replace an emulator account's characters (retail US unless they say otherwise)."""
        chars = [{"region": "us", "flavor": "", **c} for c in characters]
        self.emulator("PUT", f"/accounts/{account}", {"characters": chars})

    def authorize(
        self, redirect_to: str | None = APP, account: int = 1, region: str | None = None
    ) -> httpx.Response:
        """login → Battle.net authorize (as `account`); returns the redirect to the callback."""
        query = {"redirect_to": redirect_to} if redirect_to else {}
        if region:
            query["region"] = region
        login = self.http.get(f"{self.gw}/functions/v1/oauth-flow/login", params=query)
        assert login.status_code == 302, login.text
        authorize = self.http.get(login.headers["Location"] + f"&user={account}")
        assert authorize.status_code == 302, authorize.text
        return authorize

    def login(self, account: int, region: str | None = None) -> Session:
        callback = self.authorize(APP, account, region).headers["Location"]
        done = self.http.get(callback)
        assert done.status_code == 302, done.text
        fragment = {
            k: v[0] for k, v in parse_qs(urlsplit(done.headers["Location"]).fragment).items()
        }
        self.drain_logins()
        return Session(fragment["user_id"], fragment["access_token"], account)

    def drain_logins(self) -> None:
        """Drop the first-sync messages logins queue (tests start their syncs themselves)."""
        with self.db.connection() as conn:
            conn.execute(
                "delete from pgmq.q_character_sync where message->>'type' = 'profile_sync'"
            )

    def sync(self, session: Session, game_version: str = "retail") -> httpx.Response:
        return self.http.post(
            f"{self.gw}/api/v1/characters/sync",
            json={"gameVersion": game_version},
            headers=session.headers,
        )

    def consume(self, **body: Any) -> dict[str, int]:
        response = self.http.post(
            f"{self.gw}/functions/v1/queue-consumer", json=body, headers=self.service
        )
        assert response.status_code == 200, response.text
        result: dict[str, int] = response.json()
        return result

    def consume_all(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            if self.consume(maxMessages=500)["remaining"] == 0:
                return
        raise AssertionError("queues did not drain")

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """Run one statement in the database; its rows ([] when it returns none)."""
        with self.db.connection() as conn:
            cursor = conn.execute(sql, params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def events(
        self, session: Session, session_id: str, into: list[tuple[str, Any]], timeout: float = 60
    ) -> threading.Thread:
        """Read the event stream in a thread, appending (event, data) pairs to `into`."""

        def read() -> None:
            url = f"{self.gw}/api/v1/characters/sync/{session_id}/events"
            with httpx.stream("GET", url, headers=session.headers, timeout=timeout) as response:
                assert response.status_code == 200
                event = None
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event:
                        into.append((event, json.loads(line[6:])))

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread


@pytest.fixture
def e2e(stack: Stack, db: PsycopgDatabase) -> Iterator[E2E]:
    harness = E2E(stack, db)
    harness.emulator("POST", "/reset")
    yield harness
    harness.http.close()


def wait_until(predicate: Any, timeout: float = 30, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError("condition not met in time")
