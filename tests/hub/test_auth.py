"""Token extraction, verification and Mercure claims."""

from __future__ import annotations

import hmac
import json
import time
from functools import cache
from hashlib import sha256
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

from app.hub.auth import (
    AuthorizationError,
    Claims,
    TokenSource,
    Verifier,
    extract_token,
    origin_allowed,
    parse_claims,
    request_origin,
)

HMAC_KEY = "test-only-hub-key-of-at-least-64-bytes-for-every-hmac-algorithm!!"
CLAIMS = {"mercure": {"publish": ["*"], "subscribe": ["https://example.com/{id}"]}}

# -- extraction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "query", "cookie", "expected"),
    [
        (None, [], None, None),
        ("Bearer h", [], None, TokenSource("h", "header")),
        ("bearer h", [], None, TokenSource("h", "header")),
        ("Bearer h", ["q"], "c", TokenSource("h", "header")),
        (None, ["q"], "c", TokenSource("q", "query")),
        (None, [], "c", TokenSource("c", "cookie")),
        (None, [], "", TokenSource("", "cookie")),
    ],
)
def test_token_lookup_order(
    header: str | None, query: list[str], cookie: str | None, expected: TokenSource | None
) -> None:
    assert extract_token(header, query, cookie) == expected


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer ", "Token abc", ""])
def test_a_present_non_bearer_header_is_invalid_even_with_other_tokens(header: str) -> None:
    with pytest.raises(AuthorizationError):
        extract_token(header, ["q"], "c")


@pytest.mark.parametrize("query", [[""], ["q", "q"]])
def test_an_empty_or_repeated_authorization_parameter_is_invalid(query: list[str]) -> None:
    with pytest.raises(AuthorizationError):
        extract_token(None, query, "c")


@pytest.mark.parametrize(
    ("origin", "referer", "expected"),
    [
        ("https://a.example", "https://b.example/page", "https://a.example"),
        (None, "https://b.example/page?x=1", "https://b.example"),
        (None, "http://b.example:8080/", "http://b.example:8080"),
        (None, "not a url", None),
        (None, None, None),
    ],
)
def test_request_origin(origin: str | None, referer: str | None, expected: str | None) -> None:
    assert request_origin(origin, referer) == expected


@pytest.mark.parametrize(
    ("origin", "allowed", "expected"),
    [
        ("https://a.example", ("https://a.example",), True),
        ("https://a.example", ("https://b.example",), False),
        ("https://a.example", ("*",), True),
        ("https://a.example", (), False),
        (None, ("*",), False),
    ],
)
def test_origin_allowed(origin: str | None, allowed: tuple[str, ...], expected: bool) -> None:
    assert origin_allowed(origin, allowed) is expected


# -- claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "claims"),
    [
        ({}, Claims()),
        ({"mercure": {}}, Claims()),
        ({"mercure": {"publish": ["*"]}}, Claims(publish=("*",))),
        ({"mercure": {"publish": []}}, Claims(publish=())),
        ({"mercure": {"subscribe": ["a", "b"]}}, Claims(subscribe=("a", "b"))),
        ({"mercure": {"payload": {"user": 1}}}, Claims(payload={"user": 1})),
        ({"https://mercure.rocks/": {"publish": ["x"]}}, Claims(publish=("x",))),
        (
            {"mercure": {"publish": ["m"]}, "https://mercure.rocks/": {"publish": ["n"]}},
            Claims(publish=("m",)),
        ),
        ({"exp": 1700000000}, Claims(expires_at=1700000000.0)),
    ],
)
def test_parse_claims(payload: dict[str, Any], claims: Claims) -> None:
    assert parse_claims(payload) == claims


@pytest.mark.parametrize(
    "payload",
    [
        {"mercure": "publish"},
        {"mercure": {"publish": "*"}},
        {"mercure": {"subscribe": [1]}},
        {"https://mercure.rocks/": []},
    ],
)
def test_malformed_mercure_claim_is_invalid(payload: dict[str, Any]) -> None:
    with pytest.raises(AuthorizationError):
        parse_claims(payload)


# -- verification ----------------------------------------------------------------------------


@cache
def _keypair(kind: str) -> tuple[str, str, Any]:
    """(private PEM, public PEM, public key object) of a fresh key of ``kind``."""
    private: Any
    if kind == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif kind == "ec256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif kind == "ec384":
        private = ec.generate_private_key(ec.SECP384R1())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem, private.public_key()


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [
        ("HS256", "hmac"),
        ("HS384", "hmac"),
        ("HS512", "hmac"),
        ("RS256", "rsa"),
        ("RS512", "rsa"),
        ("PS256", "rsa"),
        ("ES256", "ec256"),
        ("ES384", "ec384"),
        ("EdDSA", "ed25519"),
    ],
)
def test_every_supported_algorithm_verifies(algorithm: str, kind: str) -> None:
    if kind == "hmac":
        signing, verifying = HMAC_KEY, HMAC_KEY
    else:
        signing, verifying, _public = _keypair(kind)
    token = jwt.encode(CLAIMS, signing, algorithm=algorithm)
    claims = Verifier(algorithm, verifying).verify(token)
    assert claims.publish == ("*",)
    assert claims.subscribe == ("https://example.com/{id}",)


def test_algorithm_must_equal_the_configured_one() -> None:
    token = jwt.encode(CLAIMS, HMAC_KEY, algorithm="HS512")
    with pytest.raises(AuthorizationError):
        Verifier("HS256", HMAC_KEY).verify(token)


def test_public_key_cannot_be_used_as_an_hmac_secret() -> None:
    """The algorithm-confusion attack: HS256 signed with the RSA public key as secret."""
    _private, public, _key = _keypair("rsa")
    header = base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = base64url_encode(json.dumps(CLAIMS).encode())
    signing_input = header + b"." + body
    signature = base64url_encode(hmac.new(public.encode(), signing_input, sha256).digest())
    with pytest.raises(AuthorizationError):
        Verifier("RS256", public).verify((signing_input + b"." + signature).decode())


def test_unsigned_tokens_are_refused() -> None:
    token = jwt.encode(CLAIMS, None, algorithm="none")
    with pytest.raises(AuthorizationError):
        Verifier("HS256", HMAC_KEY).verify(token)


@pytest.mark.parametrize(
    "extra",
    [
        {"exp": int(time.time()) - 60},
        {"nbf": int(time.time()) + 3600},
    ],
)
def test_exp_and_nbf_are_enforced(extra: dict[str, int]) -> None:
    token = jwt.encode({**CLAIMS, **extra}, HMAC_KEY, algorithm="HS256")
    with pytest.raises(AuthorizationError):
        Verifier("HS256", HMAC_KEY).verify(token)


def test_future_exp_is_reported() -> None:
    exp = int(time.time()) + 3600
    token = jwt.encode({**CLAIMS, "exp": exp}, HMAC_KEY, algorithm="HS256")
    assert Verifier("HS256", HMAC_KEY).verify(token).expires_at == exp


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_malformed_tokens_are_invalid(token: str) -> None:
    with pytest.raises(AuthorizationError):
        Verifier("HS256", HMAC_KEY).verify(token)


def test_wrong_key_is_invalid() -> None:
    token = jwt.encode(CLAIMS, HMAC_KEY + "other", algorithm="HS256")
    with pytest.raises(AuthorizationError):
        Verifier("HS256", HMAC_KEY).verify(token)


def test_audience_and_issuer_are_not_required() -> None:
    token = jwt.encode({**CLAIMS, "aud": "elsewhere", "iss": "me"}, HMAC_KEY, algorithm="HS256")
    assert Verifier("HS256", HMAC_KEY).verify(token).publish == ("*",)


def test_jwks_file_selects_key_by_kid(tmp_path: Path) -> None:
    first_private, _first_public, first_key = _keypair("rsa")
    _ec_private, _ec_public, ec_key = _keypair("ec256")
    first = json.loads(RSAAlgorithm.to_jwk(first_key))
    first["kid"] = "one"
    second = json.loads(ECAlgorithm.to_jwk(ec_key))
    second["kid"] = "two"
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [first, second]}))
    verifier = Verifier("RS256", None, jwks)
    token = jwt.encode(CLAIMS, first_private, algorithm="RS256", headers={"kid": "one"})
    assert verifier.verify(token).publish == ("*",)
    unknown = jwt.encode(CLAIMS, first_private, algorithm="RS256", headers={"kid": "nope"})
    with pytest.raises(AuthorizationError):
        verifier.verify(unknown)


def test_jwks_file_without_usable_key_is_rejected(tmp_path: Path) -> None:
    _private, _public, key = _keypair("ed25519")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [json.loads(OKPAlgorithm.to_jwk(key))]}))
    with pytest.raises(ValueError, match="no key usable with RS256"):
        Verifier("RS256", None, jwks)


@pytest.mark.parametrize(
    ("algorithm", "key"),
    [("RS256", "not a pem"), ("ES256", "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----")],
)
def test_unusable_key_fails_at_construction(algorithm: str, key: str) -> None:
    with pytest.raises(ValueError, match="cannot be used"):
        Verifier(algorithm, key)
