"""supabase/config.toml (the Supabase CLI's project file) agrees with the rest of the project."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from shared.settings import Settings

SUPABASE = Path(__file__).resolve().parents[2] / "supabase"


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    with (SUPABASE / "config.toml").open("rb") as file:
        return tomllib.load(file)


def test_project_and_database(config: dict[str, Any]) -> None:
    assert config["project_id"] == "guild-sync"
    assert config["db"]["major_version"] == 15  # the Postgres the migrations are tested on
    database_url = Settings.model_fields["database_url"].default
    assert f":{config['db']['port']}/" in str(database_url)


def test_the_api_exposes_public_and_not_the_queue_wrappers(config: dict[str, Any]) -> None:
    """Queue calls go through public RPCs granted to service_role only: pgmq_public stays
    unexposed, since Supabase's "Expose Queues via PostgREST" toggle grants it to clients."""
    schemas = config["api"]["schemas"]
    assert schemas == ["public", "graphql_public"]
    assert "pgmq_public" not in schemas and "pgmq" not in schemas


def test_the_seed_files_exist(config: dict[str, Any]) -> None:
    seed = config["db"]["seed"]
    assert seed["enabled"] is True
    assert seed["sql_paths"] == ["./seed.sql"]
    assert all((SUPABASE / path).is_file() for path in seed["sql_paths"])


def test_supabase_auth_signups_are_off(config: dict[str, Any]) -> None:
    """The app's users come from Battle.net: nobody may sign up to Supabase Auth and get a
    token signed by the project."""
    auth = config["auth"]
    assert auth["enable_signup"] is False
    assert auth["email"]["enable_signup"] is False
    assert auth["sms"]["enable_signup"] is False
    assert auth["enable_anonymous_sign_ins"] is False


def test_signing_keys_path_is_the_local_stacks_git_ignored_key(config: dict[str, Any]) -> None:
    from devtools.local_keys import LocalKeys

    path = (SUPABASE / config["auth"]["signing_keys_path"]).resolve()
    assert path == LocalKeys().signing_keys_path
    ignored = (SUPABASE.parent / ".gitignore").read_text().splitlines()
    assert f"{path.parent.name}/" in ignored
