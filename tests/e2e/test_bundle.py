"""A deployable bundle, as Cloud Functions would run it: `make package`'s fetch_profile folder
installed into a fresh virtualenv from its own requirements.txt (pip, PyPI), served by
functions-framework from the bundle folder with nothing of the repository on the path, and a
user's sync started through it. The container context is served the way deploy/Dockerfile
serves it (FUNCTION_TARGET picks the function)."""

from __future__ import annotations

import contextlib
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
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import psycopg
import pytest

from devtools.package import package
from devtools.pgcluster import Cluster
from devtools.stack import wait_http
from shared.auth import mint_service_key
from shared.settings import DEV_JWT_SECRET
from tests.conftest import ROOT
from tests.e2e.conftest import APP, APP_ORIGIN, E2E, LOG_DIR

NET_STANDIN = ROOT / "tests" / "integration" / "standins" / "net.sql"

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


def served_function(
    bundles: Bundles, target: str, e2e: E2E, port: int | None = None, **env: str
) -> Any:
    """One function's bundle folder served by functions-framework from the fresh venv."""
    command = ["functions-framework", f"--target={target}", "--port=$PORT"]
    folder = bundles.dist / "functions" / target
    return serving(folder, shell(command), bundles, target, e2e, port=port, **env)


def test_the_four_bundles_on_a_hosted_shaped_database(
    e2e: E2E, bundles: Bundles, cluster: Cluster
) -> None:
    """Static data, a login, and a 300-character sync drained only by calling queue-consumer
    as pg_net does: the cron job's body reads Vault and records the request (a pg_net stand-in),
    and the test sends exactly that request to the served queue_consumer bundle."""
    e2e.set_characters(150, [{"name": f"Hosted{i:03d}", "realm": "area-52"} for i in range(300)])
    key = e2e.stack.env()["SUPABASE_SECRET_KEYS"].split(",")[0]  # the Vault secret
    with contextlib.ExitStack() as stack:
        static = stack.enter_context(served_function(bundles, "sync_static_data", e2e))
        consumer = stack.enter_context(served_function(bundles, "queue_consumer", e2e))
        fetch = stack.enter_context(served_function(bundles, "fetch_profile", e2e))
        oauth_port = free_port()
        oauth = stack.enter_context(
            served_function(
                bundles,
                "oauth_flow",
                e2e,
                OAUTH_REDIRECT_URI=f"http://127.0.0.1:{oauth_port}/functions/v1/oauth-flow/callback",
                port=oauth_port,
                OAUTH_ALLOWED_REDIRECTS=APP_ORIGIN,
            )
        )
        service = {"Authorization": f"Bearer {key}"}
        synced = e2e.http.post(f"{static}/functions/v1/sync-static-data", headers=service)
        assert synced.status_code == 200, synced.text

        login = e2e.http.get(f"{oauth}/functions/v1/oauth-flow/login", params={"redirect_to": APP})
        assert login.status_code == 302, login.text
        authorize = e2e.http.get(login.headers["Location"] + "&user=150")
        assert authorize.status_code == 302 and authorize.headers["Location"].startswith(oauth)
        done = e2e.http.get(authorize.headers["Location"])
        assert done.status_code == 302, done.text
        token = parse_qs(urlsplit(done.headers["Location"]).fragment)["access_token"][0]
        e2e.drain_logins()

        started = e2e.http.post(
            f"{fetch}/api/v1/characters/sync",
            json={"gameVersion": "retail"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert started.status_code == 202, started.text
        session_id = started.json()["sessionId"]
        assert started.json()["syncedCharacters"] == 300

        stack.enter_context(pg_net_and_vault(cluster, e2e, consumer + "/functions/v1", key))
        for _ in range(10):  # bounded: each call drains for up to its maxSeconds
            [request_id] = e2e.rows("select public.invoke_queue_consumer() as id")[0].values()
            [sent] = e2e.rows(
                "select url, body, headers from net.requests where id = %s", request_id
            )
            assert sent["url"] == consumer + "/functions/v1/queue-consumer"
            answer = e2e.http.post(sent["url"], json=sent["body"], headers=sent["headers"])
            assert answer.status_code == 200, answer.text
            state = e2e.rows(
                "select status, processed_characters, failed_characters "
                "from character_sync_sessions where id = %s",
                session_id,
            )[0]
            if state["status"] == "completed":
                break
        assert state == {"status": "completed", "processed_characters": 300, "failed_characters": 0}


@contextmanager
def pg_net_and_vault(cluster: Cluster, e2e: E2E, functions_url: str, key: str) -> Iterator[None]:
    """What a hosted project has once pg_net is enabled and the two secrets are in Vault."""
    admin = cluster.admin_dsn()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(NET_STANDIN.read_text())  # type: ignore[arg-type]
    e2e.rows(
        "select vault.create_secret(%s, 'guild_sync_functions_url'), "
        "vault.create_secret(%s, 'guild_sync_service_role_key')",
        functions_url,
        key,
    )
    try:
        yield
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("drop schema net cascade")
            conn.execute("delete from vault.secrets where name like 'guild_sync_%'")


def shell(command: list[str]) -> list[str]:
    return ["/bin/sh", "-c", "exec " + " ".join(command)]
