"""The process's app (`shared.instance`): built once by the first caller, whatever the number
of request threads asking at once; a bad setting fails that call and is read again by the next
one (nothing broken is kept)."""

from __future__ import annotations

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
from shared.instance import get_app, set_app
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
