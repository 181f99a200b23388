"""`make package`: the deployable artifacts, written under `dist/`.

- `dist/functions/<name>/` for each function: `main.py` (its target is the folder name), the
  `shared/` package, the SQL it reads (`sql/queries/`) and a `requirements.txt` pinned (==)
  from `requirements.lock` (the runtime closure of pyproject.toml's dependencies, resolved by
  `make lock` for Python 3.11 on Linux; refused when it does not satisfy pyproject.toml). A
  source folder that `gcloud functions deploy <kebab-name> --gen2 --runtime=python311
  --source=dist/functions/<name> --entry-point=<name> --trigger-http --allow-unauthenticated`
  takes as it is.
- `dist/container/`: the build context of `deploy/Dockerfile` (copied in), one image for every
  function: its `main.py` exposes all four and `FUNCTION_TARGET` picks the one served.

Nothing of tests, devtools, the venv or `.local` goes in. `python -m devtools.package
[--dist DIR]` does it by hand.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import os
import shutil
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devtools.gateway import FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
#: The runtime the bundles are built for (`--runtime=python311`, `python:3.11-slim`).
RUNTIME = (3, 11)
#: The pinned runtime closure, kept in the repository (`make lock` writes it with uv).
LOCK = ROOT / "requirements.lock"

CONTAINER_MAIN = '''"""Every Guild Sync function in one image: functions-framework serves the one
named by FUNCTION_TARGET (sync_static_data, oauth_flow, fetch_profile or queue_consumer)."""

from functions.fetch_profile.main import fetch_profile
from functions.oauth_flow.main import oauth_flow
from functions.queue_consumer.main import queue_consumer
from functions.sync_static_data.main import sync_static_data

__all__ = ["fetch_profile", "oauth_flow", "queue_consumer", "sync_static_data"]
'''


class PackageError(RuntimeError):
    pass


def runtime_dependencies(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    return list(project["dependencies"])


def read_lock(lock: Path = LOCK) -> dict[str, str]:
    """`requirements.lock` (what `make lock` writes): canonical name -> `Name==version`."""
    if not lock.is_file():
        raise PackageError(f"{lock.name} is missing: run `make lock`")
    pins: dict[str, str] = {}
    for raw in lock.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        versions = [s.version for s in req.specifier if s.operator == "=="]
        if len(versions) != 1 or req.marker is not None:
            raise PackageError(f"{lock.name}: not a plain `name==version` pin: {line!r}")
        pins[canonicalize_name(req.name)] = f"{req.name}=={versions[0]}"
    return pins


def check_lock(requirements: list[str], pins: dict[str, str]) -> None:
    """Every runtime dependency of pyproject.toml is in the lock at a version it allows."""
    for spec in requirements:
        req = Requirement(spec)
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            raise PackageError(f"{LOCK.name} has no {req.name} ({spec}): run `make lock`")
        version = pin.split("==", 1)[1]
        if not req.specifier.contains(version, prereleases=True):
            raise PackageError(
                f"{LOCK.name} pins {pin}, pyproject.toml wants {spec}: run `make lock`"
            )


def locked_requirements(lock: Path = LOCK, pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The pins of the lock, checked against pyproject.toml's runtime dependencies."""
    pins = read_lock(lock)
    check_lock(runtime_dependencies(pyproject), pins)
    return [pins[key] for key in sorted(pins)]


def venv_drift(pins: list[str]) -> list[str]:
    """Pins that differ from what this virtualenv (the one the tests ran with) holds."""
    drift = []
    for pin in pins:
        name, version = pin.split("==", 1)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            drift.append(f"{name}: locked {version}, here {installed}")
    return drift


def requirements_text(pins: list[str]) -> str:
    head = (
        f"# Guild Sync runtime dependencies, pinned from {LOCK.name} (`make lock`, python "
        f"{RUNTIME[0]}.{RUNTIME[1]}); written by `make package`.\n"
    )
    return head + "".join(f"{p}\n" for p in pins)


def _copy_sources(dest: Path) -> None:
    """shared/ (Python files only) and sql/queries/ into `dest`, as the repository lays them
    out: shared/db/queries.py finds the SQL two levels above itself."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "shared", dest / "shared", ignore=ignore)
    (dest / "sql").mkdir()
    shutil.copytree(ROOT / "sql" / "queries", dest / "sql" / "queries", ignore=ignore)


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def build_function(target: str, dist: Path, requirements: str) -> Path:
    bundle = _fresh(dist / "functions" / target)
    shutil.copy2(ROOT / "functions" / target / "main.py", bundle / "main.py")
    _copy_sources(bundle)
    (bundle / "requirements.txt").write_text(requirements)
    return bundle


def build_container(dist: Path, requirements: str) -> Path:
    context = _fresh(dist / "container")
    (context / "functions").mkdir()
    (context / "functions" / "__init__.py").write_text("")
    for target in FUNCTIONS.values():
        folder = context / "functions" / target
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        shutil.copy2(ROOT / "functions" / target / "main.py", folder / "main.py")
    _copy_sources(context)
    (context / "main.py").write_text(CONTAINER_MAIN)
    (context / "requirements.txt").write_text(requirements)
    shutil.copy2(DOCKERFILE, context / "Dockerfile")
    return context


def package(dist: Path = ROOT / "dist") -> list[Path]:
    pins = locked_requirements()
    for line in venv_drift(pins):
        print(f"warning: the tests ran with other versions: {line}", file=sys.stderr)
    requirements = requirements_text(pins)
    built = [build_function(target, dist, requirements) for target in FUNCTIONS.values()]
    built.append(build_container(dist, requirements))
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    try:
        built = package(args.dist)
    except PackageError as exc:
        print(f"make package: {exc}", file=sys.stderr)
        return 1
    for path in built:
        print(f"wrote {os.path.relpath(path)}")
    print("deploy each function (README, Production, for the settings):")
    for kebab, target in FUNCTIONS.items():
        print(
            f"  gcloud functions deploy {kebab} --gen2 --runtime=python311 "
            f"--source={os.path.relpath(args.dist / 'functions' / target)} --entry-point={target} "
            "--trigger-http --allow-unauthenticated"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
