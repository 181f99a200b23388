"""Authentication: sessions signed and verified with ES256 / RS256 keys, the JWKS cache
(TTL, bounded refetch on an unknown kid, rotation, outage), legacy HS256 only while a secret is
configured, `sb_secret_` keys, strict issuer and known users, and the migration from the legacy
secret to the new keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from pytest_httpx import HTTPXMock

from shared.auth import AuthConfig, Authenticator, mint_service_key, mint_user_token
from shared.auth.jwks import JwksCache
from shared.auth.keys import generate_signing_key, parse_signing_key, public_jwk
from shared.errors import Unauthorized

SECRET = "legacy-jwt-secret-" + "s" * 32
SECRET_KEY = "sb_secret_" + "A1b2C3d4E5f6G7h8I9j0kLmN"
ISSUER = "https://project.supabase.co/auth/v1"
JWKS_URL = ISSUER + "/.well-known/jwks.json"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def config(**overrides: Any) -> AuthConfig:
    values: dict[str, Any] = {"issuer": ISSUER, "secret_keys": (SECRET_KEY,)}
    values.update(overrides)
    return AuthConfig(**values)


def authenticator(cfg: AuthConfig, *users: uuid.UUID, **kwargs: Any) -> Authenticator:
    known = set(users)
    return Authenticator(cfg, lambda user_id: user_id in known, **kwargs)


def session(key: dict[str, Any], user: uuid.UUID, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "sub": str(user),
        "role": "authenticated",
        "aud": "authenticated",
        "iss": ISSUER,
        "iat": now,
        "exp": now + 60,
        **claims,
    }
    signing = parse_signing_key(json.dumps(key))
    return jwt.encode(body, signing.private_key, algorithm=signing.algorithm,
                      headers={"kid": signing.kid})  # fmt: skip


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_sessions_signed_with_the_signing_key_verify(algorithm: str) -> None:
    jwk = generate_signing_key(algorithm)
    assert {"kid", "alg", "d"} <= set(jwk) and jwk["alg"] == algorithm
    cfg = config(signing_key=parse_signing_key(json.dumps(jwk)))
    user = uuid.uuid4()
    auth = authenticator(cfg, user)
    token, expires_at = auth.mint_session(user, 60)
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == (algorithm, jwk["kid"])
    caller = auth.caller(f"Bearer {token}")
    assert (caller.role, caller.user_id) == ("authenticated", user)
    claims = caller.claims
    assert (claims["aud"], claims["iss"], claims["exp"]) == ("authenticated", ISSUER, expires_at)
    assert claims["exp"] - claims["iat"] == 60
    # another key with the same kid does not verify it: the signature is checked
    impostor = {**generate_signing_key(algorithm), "kid": jwk["kid"]}
    with pytest.raises(Unauthorized, match="not valid"):
        auth.caller(f"Bearer {session(impostor, user)}")


def test_the_public_jwk_has_no_private_part() -> None:
    for algorithm in ("ES256", "RS256"):
        jwk = generate_signing_key(algorithm)
        public = public_jwk(jwk)
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(public)
        assert public["kid"] == jwk["kid"] and public["key_ops"] == ["verify"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("not json", "not JSON"),
        ('{"kty": "oct", "kid": "a", "k": "c2VjcmV0"}', "unsupported key type"),
        ("{}", "no kid"),
    ],
)
def test_a_bad_signing_key_says_why_without_its_material(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_signing_key(text)
    public_only = public_jwk(generate_signing_key())
    with pytest.raises(ValueError, match="no private part"):
        parse_signing_key(json.dumps(public_only))
    es = generate_signing_key()
    with pytest.raises(ValueError, match="says alg 'RS256'") as info:
        parse_signing_key(json.dumps({**es, "alg": "RS256"}))
    assert es["d"] not in str(info.value)


def test_refused_tokens(httpx_mock: HTTPXMock) -> None:
    jwk = generate_signing_key()
    user = uuid.uuid4()
    auth = authenticator(config(signing_key=parse_signing_key(json.dumps(jwk))), user)
    now = int(time.time())
    claims = {"sub": str(user), "role": "authenticated", "aud": "authenticated", "iss": ISSUER,
              "iat": now, "exp": now + 60}  # fmt: skip
    # alg none
    none = jwt.encode(claims, None, algorithm="none", headers={"kid": jwk["kid"]})
    with pytest.raises(Unauthorized, match="algorithm is not accepted"):
        auth.caller(f"Bearer {none}")
    # HS256 keyed with the public key's bytes (no legacy secret configured)
    public_pem = parse_signing_key(json.dumps(jwk)).public.key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    confused = hs256(claims, public_pem, kid=jwk["kid"])
    with pytest.raises(Unauthorized, match="HS256 tokens are not accepted"):
        auth.caller(f"Bearer {confused}")
    # ... and refused too when a legacy secret is configured: it is not that secret
    legacy = authenticator(config(signing_key=auth.config.signing_key, jwt_secret=SECRET), user)
    with pytest.raises(Unauthorized, match="not valid"):
        legacy.caller(f"Bearer {confused}")
    # an ES256 header on an RS256 key's kid
    rsa = generate_signing_key("RS256")
    lying = jwt.encode(claims, parse_signing_key(json.dumps(rsa)).private_key, algorithm="RS256",
                       headers={"kid": jwk["kid"]})  # fmt: skip
    with pytest.raises(Unauthorized, match="does not match its key"):
        auth.caller(f"Bearer {lying}")
    # an unknown kid, no JWKS configured
    with pytest.raises(Unauthorized, match="signing key is not known"):
        auth.caller(f"Bearer {session(generate_signing_key(), user)}")
    # a garbled token
    with pytest.raises(Unauthorized, match="not valid"):
        auth.caller("Bearer not.a.jwt")
    assert not httpx_mock.get_requests()


def test_legacy_hs256_only_while_a_secret_is_set() -> None:
    user = uuid.uuid4()
    token, _ = mint_user_token(user, SECRET, 60)
    assert authenticator(config(jwt_secret=SECRET), user).caller(f"Bearer {token}").user_id == user
    with pytest.raises(Unauthorized, match="HS256 tokens are not accepted"):
        authenticator(config(), user).caller(f"Bearer {token}")
    service = mint_service_key(SECRET)
    assert authenticator(config(jwt_secret=SECRET)).caller(f"Bearer {service}").is_service
    with pytest.raises(Unauthorized, match="HS256"):
        authenticator(config()).caller(f"Bearer {service}")
    with pytest.raises(Unauthorized, match="expired"):
        expired, _ = mint_user_token(user, SECRET, -60)
        authenticator(config(jwt_secret=SECRET), user).caller(f"Bearer {expired}")
    forever = jwt.encode({"role": "service_role"}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="no expiry"):
        authenticator(config(jwt_secret=SECRET)).caller(f"Bearer {forever}")


def test_a_service_role_claim_in_an_asymmetric_token_is_no_service_caller() -> None:
    jwk = generate_signing_key()
    auth = authenticator(config(signing_key=parse_signing_key(json.dumps(jwk))))
    token = session(jwk, uuid.uuid4(), role="service_role")
    with pytest.raises(Unauthorized, match="secret key"):
        auth.caller(f"Bearer {token}")


def test_secret_keys_as_apikey_or_bearer() -> None:
    rotated = "sb_secret_" + "n" * 24
    auth = authenticator(config(secret_keys=(rotated, SECRET_KEY)))
    assert auth.caller(None, SECRET_KEY).is_service
    assert auth.caller(f"Bearer {SECRET_KEY}").is_service
    assert auth.caller(f"Bearer {rotated}").is_service
    for wrong, needle in [
        (SECRET_KEY[:-1] + "x", "not one of this project's"),
        (SECRET_KEY + "x", "not one of this project's"),
        ("sb_publishable_" + "p" * 24, "publishable key"),
        ("sb_other_" + "p" * 24, "not a Supabase API key"),
    ]:
        with pytest.raises(Unauthorized, match=needle):
            auth.caller(f"Bearer {wrong}")
        with pytest.raises(Unauthorized, match=needle):
            auth.caller(None, wrong)
    with pytest.raises(Unauthorized, match="missing"):
        auth.caller(None, None)
    with pytest.raises(Unauthorized, match="not one of"):
        authenticator(config(secret_keys=())).caller(None, SECRET_KEY)


def test_issuer_and_user_are_checked() -> None:
    jwk = generate_signing_key()
    user = uuid.uuid4()
    lookups: list[uuid.UUID] = []
    clock = Clock()

    def exists(user_id: uuid.UUID) -> bool:
        lookups.append(user_id)
        return user_id == user

    auth = Authenticator(config(signing_key=parse_signing_key(json.dumps(jwk))), exists,
                         clock=clock, user_ttl=30)  # fmt: skip
    with pytest.raises(Unauthorized, match="not issued by this project"):
        auth.caller(f"Bearer {session(jwk, user, iss='https://other.supabase.co/auth/v1')}")
    with pytest.raises(Unauthorized, match="not issued by this project"):
        auth.caller(f"Bearer {session(jwk, user, iss='supabase')}")  # legacy issuer, ES256
    stranger = uuid.uuid4()
    with pytest.raises(Unauthorized, match="not a user of this app"):
        auth.caller(f"Bearer {session(jwk, stranger)}")
    with pytest.raises(Unauthorized, match="no valid 'sub'"):
        auth.caller(f"Bearer {session(jwk, user, sub='someone')}")
    with pytest.raises(Unauthorized, match="audience"):
        auth.caller(f"Bearer {session(jwk, user, aud='other')}")
    token = session(jwk, user)
    for _ in range(3):
        auth.caller(f"Bearer {token}")
    assert lookups == [stranger, user]  # remembered for a while
    clock.now += 31
    auth.caller(f"Bearer {token}")
    assert lookups == [stranger, user, user]
    # legacy sessions carry `supabase` (or the project's URL)
    legacy = authenticator(config(jwt_secret=SECRET), user)
    assert legacy.caller(f"Bearer {mint_user_token(user, SECRET, 60)[0]}").user_id == user
    foreign, _ = mint_user_token(user, SECRET, 60, iss="https://elsewhere/auth/v1")
    with pytest.raises(Unauthorized, match="not issued by this project"):
        legacy.caller(f"Bearer {foreign}")


def hs256(claims: dict[str, Any], key: bytes, **header: Any) -> str:
    """An HS256 token keyed with any bytes (PyJWT refuses to sign with a public key's)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def jwks_body(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": [public_jwk(k) for k in keys]}


def test_jwks_keys_are_cached_and_an_unknown_kid_refetches_at_most_every_30_s(
    httpx_mock: HTTPXMock,
) -> None:
    first, later = generate_signing_key(), generate_signing_key("RS256")
    user = uuid.uuid4()
    clock = Clock()
    httpx_mock.add_response(url=JWKS_URL, json=jwks_body(first))
    jwks = JwksCache(JWKS_URL, ttl=600, min_refetch=30, clock=clock)
    auth = authenticator(config(), user, jwks=jwks)
    for _ in range(5):
        assert auth.caller(f"Bearer {session(first, user)}").user_id == user
    assert jwks.fetches == 1
    # a key published after start: unknown kid -> one refetch, then none for 30 s
    unknown = session(later, user)
    httpx_mock.add_response(url=JWKS_URL, json=jwks_body(first))
    clock.now += 31
    for _ in range(10):
        with pytest.raises(Unauthorized, match="not known"):
            auth.caller(f"Bearer {unknown}")
    assert jwks.fetches == 2
    # rotation: once the JWKS lists the new key (and 30 s passed) it verifies
    httpx_mock.add_response(url=JWKS_URL, json=jwks_body(first, later))
    clock.now += 30
    assert auth.caller(f"Bearer {unknown}").user_id == user
    assert jwks.fetches == 3
    # the old key removed from the JWKS stops verifying once the cache expires
    httpx_mock.add_response(url=JWKS_URL, json=jwks_body(later))
    assert auth.caller(f"Bearer {session(first, user)}").user_id == user  # still cached
    clock.now += 600
    with pytest.raises(Unauthorized, match="not known"):
        auth.caller(f"Bearer {session(first, user)}")
    assert jwks.fetches == 4
    assert all(r.url == JWKS_URL for r in httpx_mock.get_requests())


def test_a_jwks_outage_keeps_the_cached_keys(httpx_mock: HTTPXMock) -> None:
    key = generate_signing_key()
    user = uuid.uuid4()
    clock = Clock()
    httpx_mock.add_response(url=JWKS_URL, json=jwks_body(key))
    jwks = JwksCache(JWKS_URL, ttl=60, min_refetch=30, clock=clock, timeout=0.5)
    auth = authenticator(config(), user, jwks=jwks)
    token = session(key, user)
    assert auth.caller(f"Bearer {token}").user_id == user
    clock.now += 61  # expired: the refetch fails, the cached key still verifies
    httpx_mock.add_exception(httpx.ConnectTimeout("down"), url=JWKS_URL)
    assert auth.caller(f"Bearer {token}").user_id == user
    httpx_mock.add_response(url=JWKS_URL, status_code=503)
    clock.now += 30
    assert auth.caller(f"Bearer {token}").user_id == user
    clock.now += 10  # within 30 s of the last attempt: no request at all
    assert auth.caller(f"Bearer {token}").user_id == user
    assert jwks.fetches == 3
    # the first fetch failing: nothing cached, refused, bounded
    cold = JwksCache(JWKS_URL, clock=clock)
    httpx_mock.add_response(url=JWKS_URL, text="<html>")
    assert cold.key(key["kid"]) is None and cold.key(key["kid"]) is None
    assert cold.fetches == 1


def test_a_jwks_never_yields_a_symmetric_or_mislabelled_key(httpx_mock: HTTPXMock) -> None:
    key = generate_signing_key()
    secret = base64.urlsafe_b64encode(b"x" * 32).decode().rstrip("=")
    httpx_mock.add_response(
        url=JWKS_URL,
        json={"keys": [{"kty": "oct", "kid": "sym", "k": secret, "alg": "HS256"},
                       {**public_jwk(key), "kid": "mislabelled", "alg": "RS256"},
                       public_jwk(key), "junk"]},
    )  # fmt: skip
    jwks = JwksCache(JWKS_URL)
    assert jwks.key("sym") is None and jwks.key("mislabelled") is None
    found = jwks.key(key["kid"])
    assert found is not None and found.algorithm == "ES256"


def test_moving_from_the_legacy_secret_to_the_new_keys() -> None:
    """README, "Moving from the legacy JWT secret to the new keys": both configured, then
    the secret removed."""
    user = uuid.uuid4()
    signing = parse_signing_key(json.dumps(generate_signing_key()))
    before = authenticator(config(jwt_secret=SECRET, secret_keys=()), user)
    old_session, _ = before.mint_session(user, 3600)
    old_service = mint_service_key(SECRET)
    assert jwt.get_unverified_header(old_session)["alg"] == "HS256"
    # step 1 and 2: the signing key imported and the secret keys added, the secret still set
    both = authenticator(config(jwt_secret=SECRET, signing_key=signing), user)
    new_session, _ = both.mint_session(user, 3600)
    assert jwt.get_unverified_header(new_session)["alg"] == "ES256"
    for token in (old_session, new_session):
        assert both.caller(f"Bearer {token}").user_id == user
    assert both.caller(f"Bearer {old_service}").is_service
    assert both.caller(None, SECRET_KEY).is_service
    # step 3: after the longest session TTL the secret is removed
    after = authenticator(config(signing_key=signing), user)
    assert after.caller(f"Bearer {new_session}").user_id == user
    assert after.caller(f"Bearer {SECRET_KEY}").is_service
    for token in (old_session, old_service):
        with pytest.raises(Unauthorized, match="HS256"):
            after.caller(f"Bearer {token}")
