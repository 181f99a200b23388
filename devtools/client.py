"""A small client of the running stack for the demo and the benchmarks: logs an emulator user
in through the real OAuth redirects, starts syncs, follows the event stream."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class StackClient:
    gateway: str
    emulator: str
    http: httpx.Client

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.emulator}/_emulator{path}", json=body)
        response.raise_for_status()
        return response.json()

    def requests_per_window(self, window_s: int) -> Counter[int]:
        """API requests the emulator saw since its stats were reset, per aligned window."""
        windows: Counter[int] = Counter()
        for second, count in self.admin("GET", "/stats")["per_second"].items():
            windows[int(second) // window_s] += count
        return windows

    def login(self, account: int, region: str | None = None) -> dict[str, Any]:
        """Returns {user, accessToken, expiresAt} (the callback without redirect_to)."""
        params = {"region": region} if region else {}
        login = self.http.get(f"{self.gateway}/functions/v1/oauth-flow/login", params=params)
        if login.status_code != 302:
            raise RuntimeError(f"login answered {login.status_code}: {login.text}")
        authorize = self.http.get(login.headers["Location"] + f"&user={account}")
        callback = self.http.get(authorize.headers["Location"])
        if callback.status_code != 200:
            raise RuntimeError(f"callback answered {callback.status_code}: {callback.text}")
        result: dict[str, Any] = callback.json()
        return result

    def sync(self, token: str, game_version: str = "retail") -> tuple[int, dict[str, Any]]:
        response = self.http.post(
            f"{self.gateway}/api/v1/characters/sync",
            json={"gameVersion": game_version},
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code, response.json()

    def events(
        self, token: str, session_id: str, timeout: float = 300
    ) -> Iterator[tuple[str, Any]]:
        url = f"{self.gateway}/api/v1/characters/sync/{session_id}/events"
        headers = {"Authorization": f"Bearer {token}"}
        with self.http.stream("GET", url, headers=headers, timeout=timeout) as response:
            response.raise_for_status()
            event = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    yield event, json.loads(line[6:])

    def characters(self, token: str) -> list[dict[str, Any]]:
        response = self.http.get(
            f"{self.gateway}/api/v1/characters", headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["characters"]
        return result
