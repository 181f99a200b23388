"""Fixtures of the use-case tests: the in-memory repositories, a Battle.net client whose HTTP
pytest-httpx answers (no sleeping: a fake clock), and the token cipher."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from shared.blizzard.client import BlizzardClient
from shared.blizzard.transport import connection_pool
from shared.crypto import TokenCipher
from shared.settings import Settings
from tests.fakes import FakeClock, Fakes

#: One TLS context for every test's client: loading the CA bundle costs 40 ms a client.
TLS = ssl.create_default_context()


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def client(settings: Settings) -> Iterator[BlizzardClient]:
    clock = FakeClock()
    with connection_pool(verify=TLS) as http:
        yield BlizzardClient(settings, http=http, sleep=clock.sleep, clock=clock)


@pytest.fixture
def cipher(settings: Settings) -> TokenCipher:
    return TokenCipher(settings.token_encryption_key.get_secret_value())
