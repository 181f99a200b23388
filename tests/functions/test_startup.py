"""A function refuses to start on a bad or unsafe setting: functions-framework, run as a deploy
runs it, exits non-zero with one line naming the variable (DESIGN.md section 3). Its import
checks the settings and nothing more: the app (data layer, Battle.net, services) is built by the
first request (README, Cold start), which then finds the settings accepted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from shared.auth.keys import generate_signing_key
from shared.crypto import generate_key
from shared.settings import DEV_JWT_SECRET, DEV_TOKEN_KEY
from tests.conftest import ROOT

STRONG_SECRET = "s" * 40
KEY = generate_key("prod")
SIGNING_KEY = json.dumps(generate_signing_key("ES256"))
SECRET_KEY = "sb_secret_" + "z" * 30
#: What production needs besides the keys (each has only a local default).
DEPLOY = {
    "BLIZZARD_CLIENT_ID": "id",
    "BLIZZARD_CLIENT_SECRET": "secret",
    "DATABASE_URL": "postgresql://postgres:pw@db.example:6543/postgres",
    "OAUTH_REDIRECT_URI": "https://api.example/functions/v1/oauth-flow/callback",
    "TOKEN_ENCRYPTION_KEY": KEY,
}


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("BLIZZARD_", "SUPABASE_", "TOKEN_", "OAUTH_", "K_SERVICE", "DATABASE_URL")
        )
    }
    return subprocess.run(
        [sys.executable, *args],
        env={**base, **env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


#: Loads a function as the platform does (`create_app`: main.py imported, its target resolved)
#: and asks it one request that needs no database; prints the answers' statuses and codes.
FIRST_REQUEST = """
import json, sys
import functions_framework

target, method, path = sys.argv[1:4]
app = functions_framework.create_app(target=target, source=f"functions/{target}/main.py")
client = app.test_client()
answer = client.open(path, method=method)
print(json.dumps([answer.status_code, (answer.get_json(silent=True) or {}).get("error", {})]))
"""
#: The first request asked of each function: one that needs no database.
ASKED = {
    "fetch_profile": ("GET", "/api/v1/characters"),
    "oauth_flow": ("GET", "/functions/v1/oauth-flow/callback"),
    "sync_static_data": ("POST", "/functions/v1/sync-static-data"),
    "queue_consumer": ("GET", "/functions/v1/queue-consumer/status"),
}


def first_request(target: str, env: dict[str, str]) -> tuple[int, dict[str, str], str]:
    """The status and error of the function's first request (the one that builds its app), and
    what the process logged."""
    done = run_python(env, "-c", FIRST_REQUEST, target, *ASKED[target])
    assert done.returncode == 0, done.stderr
    status, error = json.loads(done.stdout.strip().splitlines()[-1])
    return status, error, done.stderr


@pytest.mark.parametrize(
    ("target", "env", "variable"),
    [
        ("fetch_profile", DEPLOY, "SUPABASE_JWT_SIGNING_KEY"),
        ("oauth_flow", {**DEPLOY, "SUPABASE_JWT_SIGNING_KEY": SIGNING_KEY}, "SUPABASE_SECRET_KEYS"),
        (
            "sync_static_data",
            {"K_SERVICE": "sync-static-data", "TOKEN_ENCRYPTION_KEY": KEY},
            "BLIZZARD_CLIENT_ID",
        ),
        (
            "queue_consumer",
            {**DEPLOY, "OAUTH_REDIRECT_URI": "", "SUPABASE_JWT_SECRET": STRONG_SECRET},
            "OAUTH_REDIRECT_URI",
        ),
        (
            "oauth_flow",
            {"BLIZZARD_CLIENT_ID": "id", "SUPABASE_JWT_SECRET": STRONG_SECRET},
            "TOKEN_ENCRYPTION_KEY",
        ),
        (
            "sync_static_data",
            {"K_SERVICE": "sync-static-data", "SUPABASE_JWT_SECRET": "short-secret"},
            "SUPABASE_JWT_SECRET",
        ),
        (
            "queue_consumer",
            {
                "K_SERVICE": "queue-consumer",
                "SUPABASE_JWT_SECRET": DEV_JWT_SECRET,
                "TOKEN_ENCRYPTION_KEY": KEY,
            },
            "SUPABASE_JWT_SECRET",
        ),
        (
            "fetch_profile",
            {
                "K_SERVICE": "fetch-profile",
                "SUPABASE_JWT_SECRET": STRONG_SECRET,
                "TOKEN_ENCRYPTION_KEY": f"{KEY},{DEV_TOKEN_KEY}",
            },
            "TOKEN_ENCRYPTION_KEY",
        ),
        (
            "queue_consumer",
            {"TOKEN_ENCRYPTION_KEY": f"{KEY},{generate_key('prod')}"},  # a duplicate key id
            "TOKEN_ENCRYPTION_KEY",
        ),
    ],
)
def test_functions_framework_refuses_to_start(
    target: str, env: dict[str, str], variable: str
) -> None:
    source = f"functions/{target}/main.py"
    done = run_python(env, "-m", "functions_framework", "--target", target, "--source", source)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith((f"invalid setting {variable}:", f"missing setting {variable} "))
    secrets = (STRONG_SECRET, KEY.split(":")[1], json.loads(SIGNING_KEY)["d"], SECRET_KEY)
    assert all(secret not in done.stderr for secret in secrets)


def test_functions_start_with_production_secrets_and_locally_without_any() -> None:
    load_all = (
        "import functions_framework as ff\n"
        "for t in ('fetch_profile', 'oauth_flow', 'sync_static_data', 'queue_consumer'):\n"
        "    ff.create_app(target=t, source=f'functions/{t}/main.py')\n"
    )
    new_keys = {
        **DEPLOY,
        "SUPABASE_JWT_SIGNING_KEY": SIGNING_KEY,
        "SUPABASE_SECRET_KEYS": SECRET_KEY,
    }
    legacy = {**DEPLOY, "SUPABASE_JWT_SECRET": STRONG_SECRET}
    for env in (new_keys, legacy, {}):
        done = run_python(env, "-c", load_all)
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("target", list(ASKED))
def test_the_first_request_builds_the_app_with_the_settings_checked_at_start(target: str) -> None:
    """The app is built by the first request (401 without a key, 400 for a callback without a
    state): the settings the import checked are the ones it uses."""
    new_keys = {
        **DEPLOY,
        "SUPABASE_JWT_SIGNING_KEY": SIGNING_KEY,
        "SUPABASE_SECRET_KEYS": SECRET_KEY,
    }
    legacy = {**DEPLOY, "SUPABASE_JWT_SECRET": STRONG_SECRET}
    expected = 400 if target == "oauth_flow" else 401
    for env in (new_keys, legacy, {}):
        status, error, logged = first_request(target, env)
        assert status == expected, (error, logged)
        assert error["code"] != "config_error"
