"""Battle.net tokens at rest: AES-256-GCM with a key id, so keys can rotate.

TOKEN_ENCRYPTION_KEY is a comma-separated key ring of `key_id:base64url(32 bytes)`; the first
key encrypts, every key decrypts, and a key id may appear only once. A ciphertext is
`v1.<key_id>.<base64url(nonce|ct|tag)>` and is bound to its user by the associated data (the
Battle.net account id), so a ciphertext copied onto another user does not decrypt.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.errors import ConfigError, TokenDecryptionError

VARIABLE = "TOKEN_ENCRYPTION_KEY"
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # no '.': it separates a ciphertext's parts
VERSION = "v1"
NONCE_BYTES = 12


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Encrypted:
    key_id: str
    ciphertext: str


def parse_key_ring(key_ring: str) -> dict[str, bytes]:
    """`key_id:base64url(32 bytes)[,key_id:...]` as {key_id: key}, in order (the first
    encrypts). Raises ConfigError naming TOKEN_ENCRYPTION_KEY, never showing key material."""
    keys: dict[str, bytes] = {}
    for entry in (e.strip() for e in key_ring.split(",") if e.strip()):
        key_id, sep, material = entry.partition(":")
        key_id = key_id.strip()
        try:
            raw = _b64decode(material.strip()) if sep else b""
        except ValueError:
            raw = b""
        if not KEY_ID.fullmatch(key_id) or len(raw) != 32:
            raise ConfigError(
                "invalid setting TOKEN_ENCRYPTION_KEY: expected key_id:base64url(32 bytes)"
                "[,key_id:...] (key ids of letters, digits, - and _)",
                variable=VARIABLE,
            )
        if key_id in keys:
            raise ConfigError(
                f"invalid setting TOKEN_ENCRYPTION_KEY: key id {key_id!r} appears twice",
                variable=VARIABLE,
            )
        keys[key_id] = raw
    if not keys:
        raise ConfigError("invalid setting TOKEN_ENCRYPTION_KEY: empty", variable=VARIABLE)
    return keys


class TokenCipher:
    def __init__(self, key_ring: str) -> None:
        keys = parse_key_ring(key_ring)
        self._keys = {key_id: AESGCM(raw) for key_id, raw in keys.items()}
        self.primary = next(iter(keys))

    def encrypt(self, plaintext: str, associated: str) -> Encrypted:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.primary].encrypt(nonce, plaintext.encode(), associated.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return Encrypted(self.primary, f"{VERSION}.{self.primary}.{body}")

    def decrypt(self, ciphertext: str, associated: str) -> str:
        try:
            version, key_id, body = ciphertext.split(".", 2)
        except ValueError:
            raise TokenDecryptionError("stored token has an unknown format") from None
        key = self._keys.get(key_id)
        if version != VERSION or key is None:
            raise TokenDecryptionError(f"stored token uses unknown key id {key_id!r}")
        try:
            raw = _b64decode(body)
            plain = key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated.encode())
        except (InvalidTag, ValueError):
            raise TokenDecryptionError("stored token could not be decrypted") from None
        return plain.decode()


def generate_key(key_id: str) -> str:
    """A new key ring entry: `key_id:base64url(32 random bytes)`."""
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"
