"""The gateway's routing: functions and the API first, then the built web page, never a file
over an API path."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from devtools.gateway import Gateway, StaticSite


def echo(name: str) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{name} {environ['PATH_INFO']}".encode()]

    return app


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Guild Sync</title>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    # files that must never answer for an API path
    (tmp_path / "api" / "v1").mkdir(parents=True)
    (tmp_path / "api" / "v1" / "characters").write_text("shadow")
    (tmp_path / "health").write_text("shadow")
    (tmp_path.parent / "secret.txt").write_text("outside")
    (tmp_path / ".built").write_text("stamp")
    return tmp_path


@pytest.fixture
def client(site: Path) -> Client:
    apps = {"fetch-profile": echo("fetch-profile"), "oauth-flow": echo("oauth-flow")}
    return Client(Gateway(apps, StaticSite(site)))


def test_index_at_root_and_assets_by_path(client: Client) -> None:
    index = client.get("/")
    assert index.status_code == 200 and b"Guild Sync" in index.data
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    assert index.headers["Cache-Control"] == "no-cache"
    asset = client.get("/assets/index-abc.js")
    assert asset.status_code == 200 and asset.data == b"console.log(1)"
    assert "javascript" in asset.headers["Content-Type"]
    assert "immutable" in asset.headers["Cache-Control"]
    assert client.head("/").data == b""


def test_api_paths_are_never_shadowed(client: Client) -> None:
    assert client.get("/api/v1/characters").data == b"fetch-profile /api/v1/characters"
    assert client.get("/functions/v1/oauth-flow/login").data.startswith(b"oauth-flow")
    health = client.get("/health")
    assert health.status_code == 200 and health.json["ok"] is True  # type: ignore[index]
    unknown = client.get("/functions/v1/nope")
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "not_found"  # type: ignore[index]


@pytest.mark.parametrize(
    "path",
    [
        "/nope.js",
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/assets/",
        "/%2e%2e/secret.txt",
        "/.built",
    ],
)
def test_unknown_or_escaping_paths_are_404(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"  # type: ignore[index]


def test_only_get_and_head(client: Client) -> None:
    assert client.post("/").status_code == 404


def test_without_a_built_page_only_the_api(site: Path) -> None:
    client = Client(Gateway({"fetch-profile": echo("fetch-profile")}))
    assert client.get("/").status_code == 404
    assert client.get("/api/v1/characters").status_code == 200


def test_the_served_page_is_an_allowed_login_redirect_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.settings import DEFAULT_GATEWAY, Settings

    monkeypatch.delenv("OAUTH_ALLOWED_REDIRECTS", raising=False)
    origins = Settings.load().allowed_redirect_origins
    assert DEFAULT_GATEWAY == "http://127.0.0.1:54321" and DEFAULT_GATEWAY in origins
    assert {"http://localhost:3000", "http://127.0.0.1:3000"} <= set(origins)


def test_the_gateway_serves_the_signing_keys_public_half_as_jwks() -> None:
    from shared.auth.keys import generate_signing_key, public_jwk, verification_key

    jwk = generate_signing_key()
    client = Client(Gateway({}, None, [public_jwk(jwk)]))
    response = client.get("/auth/v1/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert [k["kid"] for k in keys] == [jwk["kid"]] and "d" not in keys[0]
    assert verification_key(keys[0]).algorithm == "ES256"
    assert Client(Gateway({})).get("/auth/v1/.well-known/jwks.json").get_json() == {"keys": []}
    assert client.post("/auth/v1/.well-known/jwks.json").status_code == 404
