"""The project's public keys from its JWKS URL (SUPABASE_JWKS_URL), cached.

- Keys are kept for `ttl` seconds; after that the next lookup fetches the JWKS again, so a key
  removed from the JWKS stops verifying once the cache expires, and a new one is found.
- An unknown `kid` fetches again at once, but at most once every `min_refetch` seconds
  (default 30), so tokens with made-up kids cannot make the functions hammer the JWKS.
- A fetch has a timeout; when it fails (JWKS down, bad answer) the keys already cached keep
  verifying, expired or not, and the next attempt waits `min_refetch` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx

from shared.auth.keys import VerificationKey, verification_key

log = logging.getLogger(__name__)

DEFAULT_TTL = 600.0
MIN_REFETCH = 30.0
FETCH_TIMEOUT = 3.0
MAX_KEYS = 50  # a JWKS lists a handful; more is not a JWKS we trust in full


class JwksCache:
    def __init__(
        self,
        url: str,
        *,
        ttl: float = DEFAULT_TTL,
        min_refetch: float = MIN_REFETCH,
        timeout: float = FETCH_TIMEOUT,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.min_refetch = min_refetch
        self.timeout = timeout
        self.clock = clock
        self._http = http
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last attempt, successful or not
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> VerificationKey | None:
        """The key for `kid`, fetching the JWKS when the cache is stale or the kid unknown
        (within the refetch bound)."""
        with self._lock:
            now = self.clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self.ttl
            if (stale or kid not in self._keys) and self._may_fetch(now):
                self._fetch(now)
            return self._keys.get(kid)

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refetch

    def _fetch(self, now: float) -> None:
        self._attempted_at = now
        self.fetches += 1
        try:
            http = self._http or httpx.Client(timeout=self.timeout)
            try:
                response = http.get(self.url, timeout=self.timeout)
            finally:
                if self._http is None:
                    http.close()
            response.raise_for_status()
            entries = response.json().get("keys")
            if not isinstance(entries, list):
                raise ValueError("the JWKS has no 'keys' list")
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("JWKS %s unavailable (%s): keeping %d cached keys", self.url,
                        type(exc).__name__, len(self._keys))  # fmt: skip
            return
        keys: dict[str, VerificationKey] = {}
        for entry in entries[:MAX_KEYS]:
            try:
                key = verification_key(entry) if isinstance(entry, dict) else None
            except ValueError:
                continue  # a symmetric or unsupported key is never a verification key
            if key is not None:
                keys[key.kid] = key
        self._keys = keys
        self._fetched_at = now
