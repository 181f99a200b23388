"""`make package`: what goes into a function's bundle and the container's build context, and
what stays out. (tests/e2e/test_bundle.py installs one bundle and serves it.)"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from devtools.gateway import FUNCTIONS
from devtools.package import PackageError, package, pinned_requirements
from tests.conftest import ROOT

DEV_TOOLS = {"pytest", "pytest-httpx", "ruff", "mypy", "pgmq"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    package(out)
    return out


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def pins(requirements: Path) -> dict[str, str]:
    lines = [ln for ln in requirements.read_text().splitlines() if ln and not ln.startswith("#")]
    found = {}
    for line in lines:
        match = PIN.match(line)
        assert match, f"not pinned with ==: {line!r}"
        found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


@pytest.mark.parametrize("target", sorted(FUNCTIONS.values()))
def test_a_bundle_is_main_shared_sql_and_pinned_requirements(dist: Path, target: str) -> None:
    bundle = dist / "functions" / target
    content = files(bundle)
    tops = {name.split("/", 1)[0] for name in content}
    assert tops == {"main.py", "shared", "sql", "requirements.txt"}
    assert re.search(rf"^def {target}\(", (bundle / "main.py").read_text(), re.MULTILINE)
    shared = {str(p.relative_to(ROOT)) for p in (ROOT / "shared").rglob("*.py")}
    assert {n for n in content if n.startswith("shared/")} == shared
    queries = {str(p.relative_to(ROOT)) for p in (ROOT / "sql" / "queries").glob("*.sql")}
    assert {n for n in content if n.startswith("sql/")} == queries  # not sql/local
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in content)
    # shared/db/queries.py finds the SQL two folders above itself: inside the bundle
    assert (bundle / "shared" / "db" / "queries.py").resolve().parents[2] == bundle.resolve()


def test_requirements_are_the_runtime_closure_pinned_from_this_venv(dist: Path) -> None:
    texts = {(dist / "functions" / t / "requirements.txt").read_text() for t in FUNCTIONS.values()}
    assert len(texts) == 1  # every function runs the same shared code
    pinned = pins(dist / "functions" / "fetch_profile" / "requirements.txt")
    for needed in ("functions-framework", "psycopg", "psycopg-binary", "psycopg-pool", "supabase"):
        assert needed in pinned
    assert not DEV_TOOLS & set(pinned)
    assert pinned["functions-framework"] == version("functions-framework")
    assert pinned["httpx"] == version("httpx")


def test_extras_and_markers_are_followed() -> None:
    assert any(p.startswith("psycopg-binary==") for p in pinned_requirements(["psycopg[binary]"]))
    assert not any(p.startswith("psycopg-binary==") for p in pinned_requirements(["psycopg"]))
    with pytest.raises(PackageError, match="not installed"):
        pinned_requirements(["guild-sync-no-such-distribution"])


def test_the_container_context_serves_any_function(dist: Path) -> None:
    context = dist / "container"
    content = files(context)
    for target in FUNCTIONS.values():
        assert f"functions/{target}/main.py" in content
        assert f"import {target}" in (context / "main.py").read_text()
    assert (context / "requirements.txt").read_text() == (
        dist / "functions" / "fetch_profile" / "requirements.txt"
    ).read_text()
    dockerfile = (context / "Dockerfile").read_text()
    assert dockerfile == (ROOT / "deploy" / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert re.search(
        r"functions-framework --target=\"\$\{FUNCTION_TARGET.*--port=\"\$\{PORT\}\"", dockerfile
    )


def test_nothing_of_the_workshop_is_packaged(dist: Path) -> None:
    everything = files(dist)
    for name in everything:
        parts = set(Path(name).parts)
        assert not parts & {"tests", "devtools", ".venv", ".local", "supabase", "local"}, name
