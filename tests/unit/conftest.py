"""Fixtures of the use-case tests: the in-memory repositories, a Battle.net client whose HTTP
pytest-httpx answers (no sleeping: a fake clock), and the token cipher."""

from __future__ import annotations

import pytest

from shared.blizzard.client import BlizzardClient
from shared.crypto import TokenCipher
from shared.settings import Settings
from tests.fakes import FakeClock, Fakes


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def client(settings: Settings) -> BlizzardClient:
    clock = FakeClock()
    return BlizzardClient(settings, sleep=clock.sleep, clock=clock)


@pytest.fixture
def cipher(settings: Settings) -> TokenCipher:
    return TokenCipher(settings.token_encryption_key.get_secret_value())
