"""A deployable bundle, as Cloud Functions would run it: `make package`'s fetch_profile folder
installed into a fresh virtualenv from its own requirements.txt (pip, PyPI), served by
functions-framework from the bundle folder with nothing of the repository on the path, and a
user's sync started through it. The container context is served the way deploy/Dockerfile
serves it (FUNCTION_TARGET picks the function)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from devtools.package import package
from devtools.stack import wait_http
from shared.auth import mint_service_key
from shared.settings import DEV_JWT_SECRET
from tests.e2e.conftest import APP, E2E, LOG_DIR

INSTALL_TIMEOUT = 300
STOP_TIMEOUT = 15
BASE_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}


@dataclass
class Bundles:
    dist: Path
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Bundles:
    dist = tmp_path_factory.mktemp("dist")
    package(dist)
    venv = tmp_path_factory.mktemp("bundle") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    requirements = dist / "functions" / "fetch_profile" / "requirements.txt"
    subprocess.run(  # this venv's pip installs into the fresh one (pip's cache)
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", "--disable-pip-version-check", "-r", str(requirements)],
        check=True, timeout=INSTALL_TIMEOUT, env=bare_env(),
    )  # fmt: skip
    return Bundles(dist, venv)


def bare_env(**extra: str) -> dict[str, str]:
    """What a Cloud Functions process has of ours: no PYTHONPATH, no project settings."""
    env = {k: v for k, v in os.environ.items() if k in BASE_ENV or k.startswith("PIP_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


#: The only auth settings a bundle gets: the new keys, no JWT secret.
NEW_KEYS = ("SUPABASE_JWT_SIGNING_KEY", "SUPABASE_JWKS_URL", "SUPABASE_SECRET_KEYS")


@contextmanager
def serving(
    folder: Path,
    command: list[str],
    bundles: Bundles,
    name: str,
    e2e: E2E,
    port: int | None = None,
    **env: str,
) -> Iterator[str]:
    """`command` (functions-framework, from the fresh venv) run in `folder` with the test
    stack's database, emulator and new keys (signing key, JWKS URL, secret keys: no JWT
    secret), and PORT; yields the base URL."""
    port = port or free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    stack_env = e2e.stack.env()
    assert "SUPABASE_JWT_SECRET" not in stack_env
    settings = {
        "DATABASE_URL": e2e.db.dsn,
        "BLIZZARD_API_URL": e2e.emu,
        "BLIZZARD_OAUTH_URL": e2e.emu + "/oauth",
        "OAUTH_REDIRECT_URI": e2e.gw + "/functions/v1/oauth-flow/callback",
        **{key: stack_env[key] for key in NEW_KEYS},
    }
    with (LOG_DIR / f"{name}.log").open("ab") as log:
        environment = bare_env(**{**settings, **env}, PORT=str(port))
        environment["PATH"] = f"{bundles.venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
        proc = subprocess.Popen(command, cwd=folder, env=environment, stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/", proc=proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_the_bundle_imports_nothing_of_the_repository(bundles: Bundles) -> None:
    bundle = bundles.dist / "functions" / "fetch_profile"
    probe = (
        "import importlib.util, shared.db.queries as q, shared.bootstrap;"
        "print(q.QUERIES_DIR);"
        "print([m for m in ('devtools', 'tests', 'functions', 'pgmq', 'pytest')"
        " if importlib.util.find_spec(m)])"
    )
    out = subprocess.run(
        [str(bundles.python), "-c", probe], cwd=bundle, env=bare_env(),
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert Path(out[0]) == bundle / "sql" / "queries"
    assert out[1] == "[]"


def test_a_sync_through_the_served_bundle(e2e: E2E, bundles: Bundles) -> None:
    e2e.set_characters(140, [{"name": f"Bundle{c}", "realm": "area-52"} for c in "abc"])
    session = e2e.login(140)  # through the gateway: the bundle is fetch_profile alone
    bundle = bundles.dist / "functions" / "fetch_profile"
    command = ["functions-framework", "--target=fetch_profile", "--port=$PORT"]
    with serving(bundle, shell(command), bundles, "bundle-fetch-profile", e2e) as url:
        started = e2e.http.post(
            f"{url}/api/v1/characters/sync", json={"gameVersion": "retail"}, headers=session.headers
        )
        assert started.status_code == 202, started.text
        body = started.json()
        assert body["syncedCharacters"] == 3
        e2e.consume_all()
        state = e2e.http.get(
            f"{url}/api/v1/characters/sync/{body['sessionId']}", headers=session.headers
        )
        assert state.status_code == 200, state.text
        assert state.json() == {
            "sessionId": body["sessionId"],
            "status": "completed",
            "totalCharacters": 3,
            "processedCharacters": 3,
            "failedCharacters": 0,
            "progressPercentage": 100,
        }
        listed = e2e.http.get(f"{url}/api/v1/characters", headers=session.headers).json()
        assert sorted(c["name"] for c in listed["characters"]) == ["Bundlea", "Bundleb", "Bundlec"]


def test_the_container_context_serves_the_function_named_by_function_target(
    e2e: E2E, bundles: Bundles
) -> None:
    """dist/container served by the Dockerfile's own CMD line (no Docker engine here)."""
    context = bundles.dist / "container"
    cmd = re.search(r"^CMD (.+)$", (context / "Dockerfile").read_text(), re.MULTILINE)
    assert cmd, "the Dockerfile has a CMD in shell form"
    command = ["/bin/sh", "-c", cmd.group(1)]
    with serving(context, command, bundles, "container", e2e, FUNCTION_TARGET="oauth_flow") as url:
        login = e2e.http.get(f"{url}/functions/v1/oauth-flow/login", params={"redirect_to": APP})
        assert login.status_code == 302, login.text
        assert login.headers["Location"].startswith(e2e.emu + "/oauth/authorize?")


def test_the_bundles_on_the_new_keys_serve_a_login_a_sync_and_operator_calls(
    e2e: E2E, bundles: Bundles
) -> None:
    """oauth_flow, fetch_profile and queue_consumer bundles, each with only the new keys: the
    whole login through the oauth_flow bundle (an ES256 session), a sync through fetch_profile,
    the queue drained and looked at through queue_consumer with a `sb_secret_` key."""
    e2e.set_characters(141, [{"name": f"Keyed{c}", "realm": "area-52"} for c in "ab"])
    functions = bundles.dist / "functions"
    port = free_port()
    oauth = f"http://127.0.0.1:{port}"
    callback = {"OAUTH_REDIRECT_URI": oauth + "/functions/v1/oauth-flow/callback"}

    def command(target: str) -> list[str]:
        return shell(["functions-framework", f"--target={target}", "--port=$PORT"])

    with (
        serving(functions / "oauth_flow", command("oauth_flow"), bundles, "bundle-oauth-flow",
                e2e, port=port, **callback) as login_url,
        serving(functions / "fetch_profile", command("fetch_profile"), bundles,
                "bundle-fetch-profile-keys", e2e) as profile_url,
        serving(functions / "queue_consumer", command("queue_consumer"), bundles,
                "bundle-queue-consumer", e2e) as consumer_url,
    ):  # fmt: skip
        start = e2e.http.get(
            f"{login_url}/functions/v1/oauth-flow/login", params={"redirect_to": APP}
        )
        assert start.status_code == 302, start.text
        authorize = e2e.http.get(start.headers["Location"] + "&user=141")
        assert authorize.headers["Location"].startswith(callback["OAUTH_REDIRECT_URI"])
        done = e2e.http.get(authorize.headers["Location"])
        assert done.status_code == 302, done.text
        fragment = parse_qs(urlsplit(done.headers["Location"]).fragment)
        token = fragment["access_token"][0]
        header = jwt.get_unverified_header(token)
        key = json.loads(e2e.stack.env()["SUPABASE_JWT_SIGNING_KEY"])
        assert (header["alg"], header["kid"]) == ("ES256", key["kid"])
        user = {"Authorization": f"Bearer {token}"}
        e2e.drain_logins()
        started = e2e.http.post(
            f"{profile_url}/api/v1/characters/sync", json={"gameVersion": "retail"}, headers=user
        )
        assert started.status_code == 202, started.text
        secret = {"apikey": e2e.stack.env()["SUPABASE_SECRET_KEYS"].split(",")[0]}
        assert secret["apikey"].startswith("sb_secret_")
        drained = e2e.http.post(
            f"{consumer_url}/functions/v1/queue-consumer", json={"maxMessages": 100},
            headers=secret,
        )  # fmt: skip
        assert drained.status_code == 200, drained.text
        assert drained.json()["processed"] >= 2
        status = e2e.http.get(f"{consumer_url}/functions/v1/queue-consumer/status", headers=secret)
        assert status.status_code == 200, status.text
        state = e2e.http.get(
            f"{profile_url}/api/v1/characters/sync/{started.json()['sessionId']}", headers=user
        )
        assert state.json()["status"] == "completed"
        operator = e2e.http.get(
            f"{profile_url}/api/v1/characters", params={"user_id": fragment["user_id"][0]},
            headers={"Authorization": f"Bearer {secret['apikey']}"},
        )  # fmt: skip
        assert sorted(c["name"] for c in operator.json()["characters"]) == ["Keyeda", "Keyedb"]
        for refused in (
            {"apikey": "sb_publishable_" + "x" * 30},
            {"apikey": secret["apikey"][:-2] + "zz"},
            {"Authorization": f"Bearer {mint_service_key(DEV_JWT_SECRET)}"},
        ):
            answer = e2e.http.post(f"{consumer_url}/functions/v1/queue-consumer", json={},
                                   headers=refused)  # fmt: skip
            assert answer.status_code == 401, answer.text


def shell(command: list[str]) -> list[str]:
    return ["/bin/sh", "-c", "exec " + " ".join(command)]
