"""The instance's app: one per process (a Cloud Functions instance), built by the first request
that needs it. A function's main.py imports this module, not the composition root, so its
import loads Flask and the routes alone; the settings, the data layer, the Battle.net client
and the services load and are wired on first use (README, Cold start).

A missing or refused setting then fails the first request, and every later one, with a 500
whose log line names the variable (`ConfigError`, mapped in `shared.http`); tests install
their own app with `set_app`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from shared.logs import configure_logging

if TYPE_CHECKING:
    from shared.bootstrap import App

_app: App | None = None
_lock = threading.Lock()


def get_app() -> App:
    """The process's app, built once (thread-safe) from the environment's settings; the logs
    become JSON lines in production (shared/logs.py)."""
    app = _app
    if app is None:
        with _lock:
            app = _app or _build()
    return app


def _build() -> App:
    global _app
    from shared.bootstrap import bootstrap
    from shared.settings import get_settings

    settings = get_settings()  # ConfigError naming the variable
    configure_logging("json" if settings.logs_as_json else "text")
    _app = bootstrap(settings)
    return _app


def set_app(app: App | None) -> App | None:
    """Replace the process-wide app (tests); returns the previous one."""
    global _app
    from shared.settings import use_settings

    previous, _app = _app, app
    use_settings(app.settings if app is not None else None)
    return previous
