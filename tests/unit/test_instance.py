"""The process's app (`shared.instance`): built once by the first caller, whatever the number
of request threads asking at once; a bad setting fails that call and is read again by the next
one (nothing broken is kept). `check_settings()`, which a function's import calls, lets a
ConfigError that ends the process print as one line."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import shared.bootstrap
import shared.instance
import shared.settings
from shared.errors import ConfigError
from shared.instance import check_settings, get_app, set_app
from shared.settings import Settings


@pytest.fixture(autouse=True)
def no_app() -> Iterator[None]:
    previous = set_app(None)
    yield
    set_app(previous)


class Built:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def test_the_first_call_builds_the_app_once_for_every_thread(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Built] = []
    started = threading.Barrier(8)

    def bootstrap(given: Settings, **_: Any) -> Built:
        time.sleep(0.05)  # the other threads arrive while it builds
        built.append(Built(given))
        return built[-1]

    monkeypatch.setattr(shared.bootstrap, "bootstrap", bootstrap)
    monkeypatch.setattr(shared.settings, "get_settings", lambda: settings)

    def ask(_: int) -> object:
        started.wait()
        return get_app()

    with ThreadPoolExecutor(max_workers=8) as pool:
        apps = list(pool.map(ask, range(8)))
    assert len(built) == 1
    assert all(app is built[0] for app in apps)
    assert built[0].settings is settings
    assert get_app() is built[0]


def test_a_bad_setting_fails_the_call_and_the_next_call_reads_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[Settings | ConfigError] = [
        ConfigError("missing setting DATABASE_URL (the database)", variable="DATABASE_URL"),
        settings,
    ]

    def get_settings() -> Settings:
        answer = answers.pop(0)
        if isinstance(answer, ConfigError):
            raise answer
        return answer

    monkeypatch.setattr(shared.bootstrap, "bootstrap", lambda given, **_: Built(given))
    monkeypatch.setattr(shared.settings, "get_settings", get_settings)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        get_app()
    app = get_app()
    assert isinstance(app, Built) and app.settings is settings


def test_a_bad_setting_at_start_ends_the_process_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    error = ConfigError("missing setting DATABASE_URL (the database)", variable="DATABASE_URL")

    def get_settings() -> Settings:
        raise error

    others: list[tuple[object, ...]] = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: others.append(args))
    monkeypatch.setattr(shared.settings, "get_settings", get_settings)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        check_settings()
    other = ValueError("not a setting")
    sys.excepthook(ConfigError, error, None)  # as the interpreter does when the import fails
    sys.excepthook(ValueError, other, None)
    assert capsys.readouterr().err == f"{error}\n"
    assert others == [(ValueError, other, None)]  # anything else: the previous hook
