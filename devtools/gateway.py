"""The local gateway: every function on one port, as Supabase serves them.

`/functions/v1/<name>[/...]` goes to that function's main.py (loaded with
functions-framework's `create_app`), and `/api/v1/characters/...` and `/api/v1/me/...` to
fetch_profile. The path is passed through unchanged, so a handler routes its own sub-paths.
`/auth/v1/.well-known/jwks.json` is the JWKS a Supabase project serves: the public half of the
signing key the functions sign sessions with (none on the legacy secret).
Any other GET is the web page built in web/dist (`make web`): `/` is its index.html, assets
under their paths; the API paths and /health are never shadowed by a file.
`python -m devtools.gateway --port 54321` serves it (threaded: event streams stay open).
"""

from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
WEB_DIST = ROOT / "web" / "dist"
RESERVED_PREFIXES = ("/functions/v1", "/api/v1", "/auth/v1", "/health")
JWKS_PATH = "/auth/v1/.well-known/jwks.json"
FUNCTIONS: dict[str, str] = {
    "sync-static-data": "sync_static_data",
    "oauth-flow": "oauth_flow",
    "fetch-profile": "fetch_profile",
    "queue-consumer": "queue_consumer",
}
API_PREFIXES: dict[str, str] = {
    "/api/v1/characters": "fetch-profile",
    "/api/v1/guilds": "fetch-profile",
    "/api/v1/me": "fetch-profile",  # /api/v1/me/sync-preferences
}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def load_functions() -> dict[str, WSGIApp]:
    import functions_framework

    return {
        name: functions_framework.create_app(
            target=target, source=str(ROOT / "functions" / target / "main.py")
        ).wsgi_app
        for name, target in FUNCTIONS.items()
    }


def _not_found(start_response: Callable[..., Any], path: str) -> list[bytes]:
    body = json.dumps({"error": {"code": "not_found", "message": f"no function at {path}"}})
    start_response("404 Not Found", [("Content-Type", "application/json")])
    return [body.encode()]


def _reserved(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in RESERVED_PREFIXES)


class StaticSite:
    """The built web page: files of one folder, read-only, GET and HEAD only. `/` is
    index.html; hashed assets (under /assets/) are cached for good, the rest revalidated."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def file_for(self, path: str) -> Path | None:
        relative = "index.html" if path in ("", "/") else path.lstrip("/")
        parts = relative.split("/")
        if "\\" in relative or any(not part or part.startswith(".") for part in parts):
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes] | None:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        path = environ.get("PATH_INFO", "")
        file = self.file_for(path)
        if file is None:
            return None
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
            kind += "; charset=utf-8"
        body = file.read_bytes()
        cache = "public, max-age=31536000, immutable" if path.startswith("/assets/") else "no-cache"
        start_response(
            "200 OK",
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(body))),
                ("Cache-Control", cache),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def jwks_document(public_keys: list[dict[str, Any]]) -> bytes:
    return json.dumps({"keys": public_keys}).encode()


class Gateway:
    def __init__(
        self,
        apps: dict[str, WSGIApp],
        site: StaticSite | None = None,
        public_keys: list[dict[str, Any]] | None = None,
    ) -> None:
        self.apps = apps
        self.site = site
        self.jwks = jwks_document(public_keys or [])

    def route(self, path: str) -> WSGIApp | None:
        if path.startswith("/functions/v1/"):
            name = path[len("/functions/v1/") :].split("/", 1)[0]
            return self.apps.get(name)
        for prefix, name in API_PREFIXES.items():
            if path == prefix or path.startswith(prefix + "/"):
                return self.apps.get(name)
        return None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/health":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"ok": True, "functions": sorted(self.apps)}).encode()]
        if path == JWKS_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Cache-Control", "public, max-age=600")],
            )
            return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.jwks]
        app = self.route(path)
        if app is not None:
            return app(environ, start_response)
        if self.site is not None and not _reserved(path):
            served = self.site(environ, start_response)
            if served is not None:
                return served
        return _not_found(start_response, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=54321)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="gateway %(levelname)s %(name)s: %(message)s")
    # request lines (the functions' access and Battle.net lines) are for production's JSON logs
    for noisy in ("werkzeug", "httpx", "shared.http", "shared.blizzard.transport"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from shared.settings import Settings

    settings = Settings.load()  # a bad setting fails here, with one line naming it
    signing_key = settings.signing_key
    public_keys = [signing_key.public_jwk] if signing_key is not None else []
    site = StaticSite(WEB_DIST) if (WEB_DIST / "index.html").is_file() else None
    if site is None:
        logging.warning("no web page in %s (run `make web`): serving the API only", WEB_DIST)
    server = make_server(
        args.host, args.port, Gateway(load_functions(), site, public_keys), threaded=True
    )
    server.daemon_threads = True

    def stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"gateway listening on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    from shared.errors import ConfigError

    try:
        sys.exit(main())
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        sys.exit(2)
