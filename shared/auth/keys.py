"""Signing keys: the private JWK that signs sessions (SUPABASE_JWT_SIGNING_KEY, as
`supabase gen signing-key` prints it), its public half, and the public keys that verify.

A key verifies only its own algorithm: an EC P-256 key ES256, an RSA key RS256. Symmetric
(`oct`) keys and keys of any other algorithm are never verification keys, so a token cannot
choose HS256 and be checked with a public key's bytes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ASYMMETRIC = ("ES256", "RS256")
#: Members of a JWK that are private: never published, never logged.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True)
class VerificationKey:
    """A public key for one `kid` and exactly one algorithm."""

    kid: str
    algorithm: str
    key: Any  # a cryptography public key


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any  # a cryptography private key
    public: VerificationKey
    public_jwk: dict[str, Any]


def public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """The publishable half of a JWK (what a JWKS lists)."""
    public = {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS}
    public["key_ops"] = ["verify"]
    return public


def verification_key(jwk: dict[str, Any]) -> VerificationKey:
    """A JWKS entry as a verification key; ValueError for anything but a public ES256 (P-256)
    or RS256 key with a `kid` (an `alg` it states must agree with its type)."""
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("the key has no kid")
    algorithm = _algorithm_of(jwk)
    try:
        parsed = jwt.PyJWK({k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS}, algorithm)
    except jwt.PyJWTError as exc:
        raise ValueError(f"the key {kid!r} is not a valid {algorithm} key") from exc
    return VerificationKey(kid, algorithm, parsed.key)


def parse_signing_key(text: str) -> SigningKey:
    """SUPABASE_JWT_SIGNING_KEY: a private JWK (or a JSON array of them, as a Supabase CLI
    `signing_keys.json` holds: the first signs). ValueError says what is wrong without any
    of the key's material."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("not JSON: expected a private JWK") from None
    if isinstance(data, list) and data:
        data = data[0]
    if not isinstance(data, dict):
        raise ValueError("expected a private JWK (a JSON object)")
    public = verification_key(data)
    if "d" not in data:
        raise ValueError("the JWK has no private part ('d'): it cannot sign")
    try:
        private = jwt.PyJWK(data, public.algorithm).key
    except jwt.PyJWTError:
        raise ValueError(f"the JWK is not a valid private {public.algorithm} key") from None
    if not isinstance(private, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("the JWK is not a private key")
    return SigningKey(public.kid, public.algorithm, private, public, public_jwk(data))


def generate_signing_key(algorithm: str = "ES256") -> dict[str, Any]:
    """A new private JWK shaped as `supabase gen signing-key --algorithm ES256|RS256` prints
    it (used when the Supabase CLI is not installed, and by the tests)."""
    if algorithm == "ES256":
        jwk = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()), as_dict=True)
    elif algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    else:
        raise ValueError(f"unsupported algorithm {algorithm!r}: use ES256 or RS256")
    return {
        "kty": jwk.pop("kty"),
        "kid": str(uuid.uuid4()),
        "use": "sig",
        "key_ops": ["sign", "verify"],
        "alg": algorithm,
        "ext": True,
        **jwk,
    }


def _algorithm_of(jwk: dict[str, Any]) -> str:
    kty, stated = jwk.get("kty"), jwk.get("alg")
    if kty == "EC" and jwk.get("crv") == "P-256":
        algorithm = "ES256"
    elif kty == "RSA":
        algorithm = "RS256"
    else:
        raise ValueError(f"unsupported key type {kty!r} (ES256 on P-256, or RS256)")
    if stated is not None and stated != algorithm:
        raise ValueError(f"the key says alg {stated!r} but is a {algorithm} key")
    return algorithm
