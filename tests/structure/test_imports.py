"""The shape of `shared/`: no import cycle, no import from a lower layer to a higher one, and
every module importable alone (in a fresh interpreter, as a cold start imports it).

Layers, lowest first: plumbing every layer uses (errors, logs, crypto, validation, urls); auth
(keys and tokens); settings; the data layer (db); Battle.net (blizzard); the use cases
(services); the jobs; HTTP (http, routing, the request bodies); the composition root
(bootstrap, and instance: the settings check at a function's import, the process's app built
on first use). A module may import its own layer and those below it; imports inside functions
count too."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS: tuple[tuple[str, ...], ...] = (
    ("shared.errors", "shared.logs", "shared.crypto", "shared.validation", "shared.urls"),
    ("shared.auth",),
    ("shared.settings",),
    ("shared.db",),
    ("shared.blizzard",),
    ("shared.services",),
    ("shared.jobs",),
    ("shared.http", "shared.routing", "shared.bodies"),
    ("shared.bootstrap", "shared.instance"),
)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "shared").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The `shared` modules a file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {name for name in found if name in known}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) - {name} for name, path in known.items()}


def layer(module: str) -> int:
    for index, members in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members):
            return index
    return -1  # the package root `shared` itself


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_every_module_has_a_layer() -> None:
    assert [m for m in modules() if m != "shared" and layer(m) < 0] == []


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_cycle_check_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_upward_import() -> None:
    upward = [
        f"{module} -> {target}"
        for module, targets in graph().items()
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]
    assert upward == []


def test_each_module_imports_alone() -> None:
    """A fresh interpreter per module: an import that works only after another module was
    imported (a hidden cycle, a missing import) fails here."""

    def run(module: str) -> tuple[str, str]:
        done = subprocess.run(
            [sys.executable, "-c", f"import {module}"],
            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
        )  # fmt: skip
        return module, done.stderr.strip().splitlines()[-1] if done.returncode else ""

    with ThreadPoolExecutor(max_workers=4) as pool:
        failed = [(m, err) for m, err in pool.map(run, sorted(modules())) if err]
    assert failed == []
