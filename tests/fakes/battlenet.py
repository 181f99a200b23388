"""Battle.net at the HTTP boundary for unit tests: the recorded samples, the app token's
answer and URL patterns for pytest-httpx, and a stub enricher for the worker's tests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pytest_httpx import HTTPXMock

from tests.conftest import SAMPLES, TEST_API, TEST_OAUTH

TOKEN_URL = f"{TEST_OAUTH}/token"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bnet-samples"


def sample(name: str) -> bytes:
    path = SAMPLES / name
    return (path if path.exists() else FIXTURES / name).read_bytes()


def sample_json(name: str) -> Any:
    return json.loads(sample(name))


def add_token(httpx_mock: HTTPXMock, token: str = "app-token", expires_in: int = 86399) -> None:
    httpx_mock.add_response(
        method="POST",
        url=TOKEN_URL,
        json={"access_token": token, "token_type": "bearer", "expires_in": expires_in},
        is_reusable=True,
        is_optional=True,
    )


def api(path: str) -> re.Pattern[str]:
    """A Battle.net API path with any query (namespace, locale, paging)."""
    return re.compile(re.escape(f"{TEST_API}{path}") + r"(\?.*)?$")


class StubEnricher:
    """Answers per character name: a dict (the data), or an exception to raise."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def capture(self, character_id: int, *target: Any) -> None:
        """Snapshots: none here (the snapshot tests drive SnapshotCapture itself)."""

    def fetch(self, region: Any, version: Any, realm_slug: str, name: str) -> dict[str, Any]:
        self.calls.append(name)
        answer = self.answers.get(name, {"level": 70})
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)
