"""What importing a function loads (README, Cold start): Flask, the routes and the settings
check (pydantic-settings, and PyJWT/cryptography for the signing key: a bad setting fails the
start, DESIGN.md section 3); none of the other heavy libraries (httpx, psycopg, tenacity,
supabase) and none of the composition (data layer, Battle.net, services, jobs): those load with
the first request. Timings belong to the bench (`python -m devtools.bench --only coldstart`)."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import ROOT

FUNCTIONS = ("sync_static_data", "oauth_flow", "fetch_profile", "queue_consumer")
#: What the first request loads, never the import (the settings stack, pydantic, PyJWT and
#: cryptography, is the check's and may load at import).
HEAVY = frozenset({"httpx", "postgrest", "psycopg", "psycopg_pool", "supabase", "tenacity"})
#: The shared modules a function's import may load: the HTTP plumbing, the app's accessor and
#: the settings check (the settings, the keys and the token key ring it validates).
LIGHT_SHARED = frozenset(
    {
        "shared",
        "shared.auth",
        "shared.auth.claims",
        "shared.auth.keys",
        "shared.crypto",
        "shared.errors",
        "shared.http",
        "shared.instance",
        "shared.logs",
        "shared.routing",
        "shared.settings",
    }
)
PROBE = """
import json, sys
import functions_framework
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def loaded_by(module: str) -> list[str]:
    """The modules importing `module` loads after functions_framework, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=True,
    )  # fmt: skip
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def heavy(loaded: list[str]) -> list[str]:
    return sorted({name.split(".")[0] for name in loaded} & HEAVY)


@pytest.fixture(scope="module")
def loaded() -> dict[str, list[str]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        modules = [f"functions.{target}.main" for target in FUNCTIONS]
        return dict(zip(FUNCTIONS, pool.map(loaded_by, modules), strict=True))


@pytest.mark.parametrize("target", FUNCTIONS)
def test_a_function_imports_the_settings_check(loaded: dict[str, list[str]], target: str) -> None:
    assert {"shared.settings", "pydantic_settings"} <= set(loaded[target])


@pytest.mark.parametrize("target", FUNCTIONS)
def test_a_function_imports_no_heavy_library(loaded: dict[str, list[str]], target: str) -> None:
    assert heavy(loaded[target]) == []


@pytest.mark.parametrize("target", FUNCTIONS)
def test_a_function_imports_only_the_http_plumbing_and_the_settings_of_shared(
    loaded: dict[str, list[str]], target: str
) -> None:
    shared = {name for name in loaded[target] if name.split(".")[0] == "shared"}
    assert sorted(shared - LIGHT_SHARED) == []


def test_the_probe_sees_what_the_composition_root_loads() -> None:
    found = heavy(loaded_by("shared.bootstrap"))
    assert {"httpx", "tenacity"} <= set(found)
