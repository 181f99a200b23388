"""The production sizing as the README applies it, and the README's routing: every route of
every function reaches its function through the load balancer's path rules."""

from __future__ import annotations

import re

import pytest

from devtools.gateway import FUNCTIONS
from functions.fetch_profile import main as fetch_profile
from functions.oauth_flow import main as oauth_flow
from functions.queue_consumer import main as queue_consumer
from functions.sync_static_data import main as sync_static_data
from shared.bootstrap import make_database
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.routing import Routes
from tests.conftest import ROOT, make_settings

README = (ROOT / "README.md").read_text()
ROUTES: dict[str, Routes] = {
    "sync_static_data": sync_static_data.routes,
    "oauth_flow": oauth_flow.routes,
    "fetch_profile": fetch_profile.routes,
    "queue_consumer": queue_consumer.routes,
}
#: The pooler's pool size and what is kept free, as the README's example reads them.
POOL_SIZE, KEPT_FREE = 15, 2


def test_the_db_pool_per_instance_is_a_setting() -> None:
    database = make_database(make_settings(db_pool_max_size=3))
    assert isinstance(database, PsycopgDatabase) and database.pool.max_size == 3
    assert make_settings().db_pool_max_size == 10


def sizes() -> dict[str, dict[str, str]]:
    block = re.search(r"^SIZES='(.*?)'$", README, re.MULTILINE | re.DOTALL)
    assert block, "the README's deploy commands read their sizes from SIZES"
    names = ["concurrency", "threads", "cpu", "memory", "min", "max", "pool"]
    rows = [line.split() for line in block.group(1).splitlines()]
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


def test_every_function_is_sized_within_the_pooler() -> None:
    table = sizes()
    assert set(table) == set(FUNCTIONS.values())
    connections = sum(int(row["max"]) * int(row["pool"]) for row in table.values())
    assert connections <= POOL_SIZE - KEPT_FREE
    for row in table.values():
        assert int(row["concurrency"]) <= int(row["threads"])  # no request queues in gunicorn
    assert int(table["fetch_profile"]["threads"]) >= 16  # streams + headroom
    for flag in ("--concurrency=", "--cpu=", "--memory=", "--min-instances=", "--max-instances="):
        assert README.count(flag) >= 2, flag  # Cloud Functions and Cloud Run
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "WORKERS=1" in dockerfile and re.search(r"THREADS=\d+", dockerfile)


def path_rules() -> list[tuple[str, str]]:
    found = re.search(r'--path-rules="([^"]+)"', README)
    assert found
    return [tuple(rule.split("=", 1)) for rule in found.group(1).split(",")]  # type: ignore[misc]


def backend_for(path: str) -> str | None:
    for pattern, backend in path_rules():
        if (pattern.endswith("/*") and path.startswith(pattern[:-1])) or path == pattern:
            return backend
    return None


@pytest.mark.parametrize("target", sorted(ROUTES))
def test_every_route_reaches_its_function(target: str) -> None:
    kebab = next(k for k, t in FUNCTIONS.items() if t == target)
    for rule in ROUTES[target].map.iter_rules():
        path = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000000", rule.rule)
        path = re.sub(r"<(?:\w+:)?\w+>", "1", path)
        assert backend_for(path) == f"{kebab}-backend", path
        prefix = "/".join(path.split("/")[:4])  # /api/v1/me, /functions/v1/oauth-flow
        assert f"`{prefix}" in README, f"the path table names {prefix}"
