"""The local stack's new-style keys (`make run` on Supabase's new keys by default, as a new
project is):

- a private ES256 signing key in `.local/signing_keys.json` (a JSON array of JWKs, the Supabase
  CLI's format: `supabase/config.toml`'s `[auth] signing_keys_path` names the same file), made
  on first use with the Supabase CLI (`supabase gen signing-key --algorithm ES256`) when it is
  installed in the repository, else the same JWK shape with `cryptography`;
- a `sb_secret_...` key in `.local/secret_key`, made on first use.

`auth_env()` is what the stack adds to its children's environment. A setting given explicitly
always wins: SUPABASE_JWT_SECRET without SUPABASE_JWT_SIGNING_KEY keeps sessions on HS256 (a
project that has not migrated), and SUPABASE_JWT_SECRET without SUPABASE_SECRET_KEYS keeps the
legacy service-role key for service callers.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEYS_DIR = ROOT / ".local"
SIGNING_KEYS_FILE = "signing_keys.json"
SECRET_KEY_FILE = "secret_key"
#: Where the Supabase CLI (npm package `supabase`) is, when the repository installs it.
CLI_CANDIDATES = (ROOT / "devtools" / "supabase-cli" / "node_modules" / ".bin" / "supabase",)
CLI_TIMEOUT = 60


@dataclass(frozen=True)
class LocalKeys:
    folder: Path = KEYS_DIR
    use_cli: bool = True  # the tests make keys in Python (fast)

    @property
    def signing_keys_path(self) -> Path:
        return self.folder / SIGNING_KEYS_FILE

    @property
    def secret_key_path(self) -> Path:
        return self.folder / SECRET_KEY_FILE

    def signing_key(self) -> str:
        """The local private JWK (JSON), made on first use."""
        path = self.signing_keys_path
        if not path.is_file():
            jwk = (self._from_cli() if self.use_cli else None) or _from_python()
            _write_private(path, json.dumps([jwk], indent=2) + "\n")
        keys = json.loads(path.read_text())
        return json.dumps(keys[0] if isinstance(keys, list) else keys)

    def secret_key(self) -> str:
        """The local `sb_secret_` key, made on first use."""
        path = self.secret_key_path
        if not path.is_file():
            _write_private(path, "sb_secret_" + secrets.token_urlsafe(24) + "\n")
        return path.read_text().strip()

    def _from_cli(self) -> dict[str, Any] | None:
        cli = next((c for c in CLI_CANDIDATES if c.is_file()), None)
        if cli is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(
                [str(cli), "gen", "signing-key", "--algorithm", "ES256"],
                cwd=self.folder, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=True,
            )  # fmt: skip
            jwk: dict[str, Any] = json.loads(done.stdout)
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        return jwk if isinstance(jwk, dict) and "d" in jwk else None


def auth_env(env: Mapping[str, str], keys: LocalKeys, gateway_url: str) -> dict[str, str]:
    """The auth settings the local stack gives its functions (explicit settings win)."""
    added: dict[str, str] = {}
    legacy = bool(env.get("SUPABASE_JWT_SECRET"))
    if not env.get("SUPABASE_JWT_SIGNING_KEY") and not legacy:
        added["SUPABASE_JWT_SIGNING_KEY"] = keys.signing_key()
    if not env.get("SUPABASE_SECRET_KEYS") and not legacy:
        added["SUPABASE_SECRET_KEYS"] = keys.secret_key()
    if not env.get("SUPABASE_JWKS_URL") and not env.get("SUPABASE_URL"):
        added["SUPABASE_JWKS_URL"] = gateway_url + "/auth/v1/.well-known/jwks.json"
    return added


def service_key(env: Mapping[str, str] | None = None, keys: LocalKeys | None = None) -> str:
    """A service credential for the functions that `env` configures: its first secret key; else
    (legacy) a service-role JWT signed with its SUPABASE_JWT_SECRET; else the local stack's
    secret key (what `make run` gives its functions)."""
    env = os.environ if env is None else env
    configured = [k.strip() for k in env.get("SUPABASE_SECRET_KEYS", "").split(",") if k.strip()]
    if configured:
        return configured[0]
    if env.get("SUPABASE_JWT_SECRET"):
        from shared.auth import mint_service_key

        return mint_service_key(env["SUPABASE_JWT_SECRET"])
    return (keys or LocalKeys()).secret_key()


def _from_python() -> dict[str, Any]:
    from shared.auth.keys import generate_signing_key

    return generate_signing_key("ES256")


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
