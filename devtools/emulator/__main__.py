"""Command line: `python -m devtools.emulator [--host H] [--port P] [--latency-ms N] ...`.

Every option also reads an environment variable (EMULATOR_HOST, EMULATOR_PORT,
EMULATOR_LATENCY_MS, EMULATOR_FAULT_RATE, EMULATOR_TIMEOUT_RATE, EMULATOR_TIMEOUT_SECONDS,
EMULATOR_RATE_LIMIT, EMULATOR_SEED, and the population's dynamics EMULATOR_DAY_SECONDS,
EMULATOR_CHANGE_RATE, EMULATOR_ROSTER_CHURN: see population.py); client credentials come from
BLIZZARD_CLIENT_ID / BLIZZARD_CLIENT_SECRET. Prints `emulator listening on http://host:port`
once serving and stops cleanly on SIGTERM or SIGINT.

`--fault-rate 1` (or EMULATOR_FAULT_RATE=1) starts it in an outage: every API, token and
userinfo request answers 503 until `POST /_emulator/config {"fault_rate": 0}` ends it
(`POST /_emulator/reset` returns to the start configuration, outage included).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

from cheroot import wsgi

from .app import create_app
from .state import EmulatorConfig

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 54323


SERVER_THREADS = 128  # requests served at once (each latency or timeout sleep holds one)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devtools.emulator", description=__doc__)
    env = os.environ.get
    parser.add_argument("--host", default=env("EMULATOR_HOST", DEFAULT_HOST))
    parser.add_argument("--port", type=int, default=int(env("EMULATOR_PORT", DEFAULT_PORT)))
    for name, kind in (
        ("latency-ms", int),
        ("fault-rate", float),
        ("timeout-rate", float),
        ("timeout-seconds", float),
        ("rate-limit", int),
        ("seed", int),
        ("day-seconds", float),
        ("change-rate", float),
        ("roster-churn", float),
    ):
        parser.add_argument(
            f"--{name}",
            type=kind,
            default=None,
            help=f"(env EMULATOR_{name.upper().replace('-', '_')})",
        )
    parser.add_argument("--log-requests", action="store_true", help="log every request")
    return parser


def _logged(app: Any) -> Any:
    """The app, with one line per request on stderr (--log-requests)."""

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: Any, *rest: Any) -> Any:
            print(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {status}", file=sys.stderr)
            return start_response(status, headers, *rest)

        return app(environ, start)

    return wsgi_app


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = EmulatorConfig.from_env()
        changes: dict[str, Any] = {
            key: value
            for key, value in vars(args).items()
            if key not in ("host", "port", "log_requests") and value is not None
        }
        config = config.updated(changes)
    except ValueError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    # cheroot, not werkzeug's development server (which closes every connection): it keeps
    # connections alive, as Battle.net does, so a client's measured cost is not a TCP connect
    # (and a server thread) per request. Latency and timeout sleeps hold a thread each.
    app = create_app(config)
    server = wsgi.Server(
        (args.host, args.port),
        _logged(app) if args.log_requests else app,
        numthreads=SERVER_THREADS,
        timeout=300,
    )
    try:
        server.prepare()
    except OSError as exc:
        print(f"emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    port = server.bind_addr[1]
    print(f"emulator listening on http://{args.host}:{port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
