"""`make package`: what goes into a function's bundle and the container's build context, and
what stays out. (tests/e2e/test_bundle.py installs one bundle and serves it.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools.gateway import FUNCTIONS
from devtools.package import (
    LOCK,
    PackageError,
    check_lock,
    locked_requirements,
    package,
    read_lock,
    runtime_dependencies,
)
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
    text = requirements.read_text().splitlines()
    lines = [ln for ln in (t.strip() for t in text) if ln and not ln.startswith("#")]
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


def test_requirements_are_the_lock_pinned(dist: Path) -> None:
    texts = {(dist / "functions" / t / "requirements.txt").read_text() for t in FUNCTIONS.values()}
    assert len(texts) == 1  # every function runs the same shared code
    pinned = pins(dist / "functions" / "fetch_profile" / "requirements.txt")
    for needed in ("functions-framework", "psycopg", "psycopg-binary", "psycopg-pool", "supabase"):
        assert needed in pinned
    assert not DEV_TOOLS & set(pinned)
    locked = pins(LOCK)
    assert pinned == locked  # the lock, whatever this venv holds


def test_the_lock_agrees_with_pyproject() -> None:
    """requirements.lock holds every runtime dependency at a version pyproject.toml allows
    (after a change of dependencies: `make lock`)."""
    check_lock(runtime_dependencies(), read_lock())
    assert "pyjwt" in read_lock() and "psycopg-binary" in read_lock()  # an extra's package


def write_project(folder: Path, dependencies: list[str]) -> Path:
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(f"[project]\nname = 'x'\ndependencies = {dependencies!r}\n")
    return pyproject


def test_a_lock_that_disagrees_with_pyproject_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("# made by make lock\nhttpx==0.28.1\n    # via x\nidna==3.10\n")
    assert locked_requirements(lock, write_project(tmp_path, ["httpx>=0.28,<0.29"])) == [
        "httpx==0.28.1",
        "idna==3.10",
    ]
    with pytest.raises(PackageError, match="has no left-pad"):
        locked_requirements(lock, write_project(tmp_path, ["httpx", "left-pad>=1"]))
    with pytest.raises(PackageError, match=r"pins httpx==0.28.1, pyproject.toml wants httpx>=1"):
        locked_requirements(lock, write_project(tmp_path, ["httpx>=1"]))
    lock.write_text("httpx>=0.28\n")
    with pytest.raises(PackageError, match="not a plain"):
        read_lock(lock)
    with pytest.raises(PackageError, match="missing"):
        read_lock(tmp_path / "nothing.lock")


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
