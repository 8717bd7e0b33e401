"""Fixtures of the authentication tests: key pairs, an identity provider's key set served
over HTTP by a real gevent server, and the shipped bookshop served whole."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.services import LiveServer


@dataclass(frozen=True)
class KeyPair:
    """A signing key with its ``kid``, its public JWK and its public PEM."""

    kid: str
    algorithm: str
    private: Any

    @property
    def jwk(self) -> dict[str, Any]:
        family = RSAAlgorithm if self.algorithm.startswith(("RS", "PS")) else ECAlgorithm
        key: dict[str, Any] = family.to_jwk(self.private.public_key(), as_dict=True)
        return {**key, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        """A token of ``claims`` signed with this key, its header naming this ``kid``."""
        return jwt.encode(
            claims, self.private, algorithm=self.algorithm, headers={"kid": self.kid, **headers}
        )


def claims(sub: object = "alice", *, lifetime: float = 300, **extra: Any) -> dict[str, Any]:
    """A user's claims: ``sub``, ``iat`` now and ``exp`` ``lifetime`` seconds from now."""
    now = int(time.time())
    return {"sub": sub, "iat": now, "exp": now + int(lifetime), **extra}


def rsa_pair(kid: str) -> KeyPair:
    return KeyPair(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def rsa_key() -> KeyPair:
    return rsa_pair("rsa-1")


@pytest.fixture(scope="session")
def rotated_rsa_key() -> KeyPair:
    return rsa_pair("rsa-2")


@pytest.fixture(scope="session")
def ec_key() -> KeyPair:
    return KeyPair("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1()))


@dataclass
class KeySet:
    """An identity provider's ``jwks_uri``: serves :attr:`keys` as they are at each request
    and counts the requests."""

    keys: list[KeyPair] = field(default_factory=list)
    fetches: int = 0
    url: str = ""

    def publish(self, keys: Iterable[KeyPair]) -> None:
        self.keys = list(keys)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.fetches += 1
        body = json.dumps({"keys": [key.jwk for key in self.keys]}).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]


@pytest.fixture
def key_set(serve: Callable[..., LiveServer]) -> KeySet:
    """A key set on a real gevent server on a free loopback port, initially empty."""
    keys = KeySet()
    keys.url = f"{serve(keys).url}/.well-known/jwks.json"
    return keys
