"""Cold start: each function's bundle (`make package`) imported in a fresh process, as a Cloud
Functions instance starts it, with production settings (the new keys only, K_SERVICE set) and
nothing of the repository on the path.

Per function, the median of REPEATS fresh processes (one more first, not counted: it writes
the bundle's bytecode, as an instance's first start does) of:
- `import functions_framework`: what the platform loads before our code (not ours);
- `create_app(target, source)`: main.py imported and its target resolved (ours: < 0.3 s);
- the resident memory (VmRSS) after that;
- the first request answered, through the app's test client: one that needs no database
  (a 401 without a key, the login callback's 400 without a state), so it times what the
  first request loads and builds.

The bundles are installed into one fresh virtualenv from their requirements.txt, cached under
`.local/coldstart-venv/<hash of requirements.txt>`. With BENCH_BEFORE=<git revision>
the bundles of that revision are measured too, interleaved with these (same run, same load).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devtools.bench.common import Report, Run, before_revision, checkout
from devtools.stack import ROOT

REPEATS = 5
VENVS = ROOT / ".local" / "coldstart-venv"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 120
BASE_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
MARK = "COLDSTART "

#: The request each function answers first: method, path, expected status, what it is.
FIRST_REQUEST: dict[str, tuple[str, str, int, str]] = {
    "sync_static_data": ("POST", "/functions/v1/sync-static-data", 401, "POST, no key: 401"),
    "oauth_flow": ("GET", "/functions/v1/oauth-flow/callback", 400, "callback, no state: 400"),
    "fetch_profile": ("GET", "/api/v1/characters", 401, "GET characters, no token: 401"),
    "queue_consumer": ("GET", "/functions/v1/queue-consumer/status", 401, "status, no key: 401"),
}

#: Runs in the bundle folder (sys.path[0] is it), prints one line of numbers.
CHILD = """
import json, sys, time

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

target, method, path, mark = sys.argv[1:5]
started = time.perf_counter()
import functions_framework
platform = time.perf_counter()
app = functions_framework.create_app(target=target, source="main.py")
imported = time.perf_counter()
memory = rss()
client = app.test_client()
asked = time.perf_counter()
response = client.open(path, method=method)
answered = time.perf_counter()
print(mark + json.dumps({
    "platform": platform - started, "import": imported - platform, "rss": memory,
    "request": answered - asked, "status": response.status_code, "rss_after": rss(),
}), flush=True)
"""


@dataclass(frozen=True)
class Variant:
    name: str  # "now", or the revision measured before
    dist: Path
    python: Path


def report(run: Run) -> list[Report]:
    with tempfile.TemporaryDirectory(prefix="coldstart-") as tmp:
        variants = [_variant("now", ROOT, Path(tmp) / "now")]
        before = before_revision()
        if before:
            source = checkout(before, Path(tmp) / "before-src")
            variants.insert(0, _variant(before, source, Path(tmp) / "before"))
        samples = _measure(variants, _production_env())
    header = (
        "function",
        "code",
        "ff import s",
        "main import s",
        "RSS MB",
        "1st request s",
        "RSS after MB",
        "1st request",
    )
    rows: list[tuple[str, ...]] = []
    for target, (_, _, _, what) in FIRST_REQUEST.items():
        for variant in variants:
            taken = samples[(variant.name, target)]

            def median(key: str, taken: list[dict[str, float]] = taken) -> float:
                return statistics.median(s[key] for s in taken)

            rows.append(
                (
                    target,
                    variant.name,
                    f"{median('platform'):.3f}",
                    f"{median('import'):.3f}",
                    f"{median('rss'):.0f}",
                    f"{median('request'):.3f}",
                    f"{median('rss_after'):.0f}",
                    what,
                )
            )
    title = (
        f"cold start: a bundle in a fresh process, median of {REPEATS} (main import: "
        "create_app, ours; the first request needs no database)"
    )
    return [Report(title, header, rows)]


def _variant(name: str, source: Path, out: Path) -> Variant:
    """The bundles `source`'s devtools.package builds, and the virtualenv that runs them."""
    dist = out / "dist"
    subprocess.run(
        [sys.executable, "-m", "devtools.package", "--dist", str(dist)],
        cwd=source,
        env={**os.environ, "PYTHONPATH": str(source)},
        check=True,
        capture_output=True,
        timeout=RUN_TIMEOUT,
    )
    requirements = dist / "functions" / "fetch_profile" / "requirements.txt"
    return Variant(name, dist, _venv(requirements))


def _venv(requirements: Path) -> Path:
    """A fresh virtualenv with `requirements` installed (this venv's pip, its cache), kept
    under .local/ by the file's hash: a later run reuses it."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    venv = VENVS / digest
    python = venv / "bin" / "python"
    done = venv / ".installed"
    if done.is_file():
        return python
    if venv.exists():
        shutil.rmtree(venv)  # an install that did not finish
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
         "--disable-pip-version-check", "-r", str(requirements)],
        capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=_bare_env(),
    )  # fmt: skip
    if installed.returncode:
        raise RuntimeError(f"pip could not install {requirements}:\n{installed.stderr[-3000:]}")
    done.write_text(requirements.read_text())
    return python


def _bare_env(**extra: str) -> dict[str, str]:
    """What a Cloud Functions process has of ours: no PYTHONPATH, no project settings."""
    env = {k: v for k, v in os.environ.items() if k in BASE_ENV or k.startswith("PIP_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _production_env() -> dict[str, str]:
    """A deployed function's settings: production mode, the new keys only (no JWT secret); the
    database and Battle.net are never reached by the requests measured."""
    from shared.auth.keys import generate_signing_key
    from shared.crypto import generate_key

    return {
        "BLIZZARD_CLIENT_ID": "bench-client",
        "BLIZZARD_CLIENT_SECRET": "bench-secret",
        "DATABASE_URL": "postgresql://postgres:bench@127.0.0.1:9/postgres",
        "OAUTH_REDIRECT_URI": "https://bench.example/functions/v1/oauth-flow/callback",
        "TOKEN_ENCRYPTION_KEY": generate_key("bench"),
        "SUPABASE_JWT_SIGNING_KEY": json.dumps(generate_signing_key("ES256")),
        "SUPABASE_JWKS_URL": "https://bench.example/auth/v1/.well-known/jwks.json",
        "SUPABASE_SECRET_KEYS": "sb_secret_" + "b" * 32,
    }


def _measure(
    variants: list[Variant], settings: dict[str, str]
) -> dict[tuple[str, str], list[dict[str, float]]]:
    """REPEATS fresh processes per variant and function, interleaved (one uncounted first)."""
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_ in range(REPEATS + 1):
        for target, (method, path, status, _) in FIRST_REQUEST.items():
            for variant in variants:
                numbers = _start(variant, target, method, path, settings)
                if numbers["status"] != status:
                    raise RuntimeError(
                        f"{variant.name} {target}: {method} {path} answered "
                        f"{numbers['status']:.0f}, expected {status}"
                    )
                if round_:
                    samples.setdefault((variant.name, target), []).append(numbers)
    return samples


def _start(
    variant: Variant, target: str, method: str, path: str, settings: dict[str, str]
) -> dict[str, float]:
    env = _bare_env(**settings, K_SERVICE=target.replace("_", "-"))
    done = subprocess.run(
        [str(variant.python), "-c", CHILD, target, method, path, MARK],
        cwd=variant.dist / "functions" / target,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode or not lines:
        raise RuntimeError(f"{variant.name} {target} failed to start:\n{done.stderr[-2000:]}")
    numbers: dict[str, float] = json.loads(lines[-1][len(MARK) :])
    return numbers
