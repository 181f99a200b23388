"""The instance's app: one per process (a Cloud Functions instance). A function's main.py imports
this module, not the composition root: its import calls `check_settings()`, which reads and
checks the settings (pydantic-settings, and PyJWT/cryptography for the keys), so a deploy with a
missing or refused setting fails to start with one line naming the variable (DESIGN.md
section 3). The data layer, the Battle.net client and the services load and are wired by the
first request that needs them (`get_app`; README, Cold start). Tests install their own app with
`set_app`.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

from shared.errors import ConfigError
from shared.logs import configure_logging

if TYPE_CHECKING:
    from types import TracebackType

    from shared.bootstrap import App
    from shared.settings import Settings

_app: App | None = None
_lock = threading.Lock()


def check_settings() -> Settings:
    """Read and check the settings when a function's main.py is imported, so a deploy with a
    missing or refused setting fails to start. If the ConfigError ends the process (as when
    functions-framework imports main.py), it prints as one line naming the variable, without
    a traceback. In production the logs become JSON lines (shared/logs.py)."""
    from shared.settings import get_settings  # pydantic-settings: the check needs it

    try:
        settings = get_settings()
    except ConfigError:
        if not isinstance(sys.excepthook, _OneLineConfigErrors):
            sys.excepthook = _OneLineConfigErrors(sys.excepthook)
        raise
    configure_logging("json" if settings.logs_as_json else "text")
    return settings


class _OneLineConfigErrors:
    def __init__(self, previous: object) -> None:
        self.previous = previous

    def __call__(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, ConfigError):
            print(exc, file=sys.stderr, flush=True)
        elif callable(self.previous):
            self.previous(kind, exc, tb)


def get_app() -> App:
    """The process's app, built once (thread-safe) by the first request that needs it, from the
    settings `check_settings()` read at import."""
    app = _app
    if app is None:
        with _lock:
            app = _app or _build()
    return app


def _build() -> App:
    global _app
    from shared.bootstrap import bootstrap  # the data layer, Battle.net, the services
    from shared.settings import get_settings

    _app = bootstrap(get_settings())
    return _app


def set_app(app: App | None) -> App | None:
    """Replace the process-wide app (tests); returns the previous one."""
    global _app
    from shared.settings import use_settings

    previous, _app = _app, app
    use_settings(app.settings if app is not None else None)
    return previous
