"""Fixtures of the authentication tests: key pairs, an identity provider's key set served
over HTTP by a real gevent server, and the shipped bookshop served whole."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from flask import Flask
from gevent.pywsgi import WSGIServer
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from app import create_app
from app.auth.command import mint_user_token
from app.auth.settings import AuthSettings
from app.config import load_resources
from app.hub.settings import HubSettings
from app.settings import Settings
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
    garbage: bool = False
    """Answer a page that is not JSON, as a provider in maintenance may."""

    def publish(self, keys: Iterable[KeyPair]) -> None:
        self.keys = list(keys)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.fetches += 1
        body = json.dumps({"keys": [key.jwk for key in self.keys]}).encode()
        if self.garbage:
            body = b"<html>maintenance</html>"
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


ROOT = Path(__file__).resolve().parents[2]
HUB_KEY = "auth-tests-hub-subscriber-key-of-32-bytes!"
USER_KEY = "auth-tests-user-token-key-of-32-bytes!!"
HUB_SETTINGS = HubSettings(publisher_key=HUB_KEY, subscriber_key=HUB_KEY, heartbeat=0)


@dataclass
class Bookshop:
    """The shipped bookshop served whole (REST, hub, ``/auth/mercure``)."""

    app: Flask
    url: str
    http: httpx.Client

    def user_token(
        self, sub: str, *roles: str, expires_in: float | None = 3600, **claims: Any
    ) -> str:
        return mint_user_token(USER_KEY, "HS256", sub, roles, expires_in=expires_in, **claims)

    def as_user(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def bookshop_app(database: Path, auth_settings: AuthSettings | None = None) -> Flask:
    """The bookshop of ``resources.yaml`` on a new SQLite file, tables created; users'
    tokens signed with :data:`USER_KEY` unless ``auth_settings`` say otherwise."""
    app = create_app(
        Settings(database_url=f"sqlite:///{database}"),
        spec=load_resources(ROOT / "resources.yaml"),
        hub_settings=HUB_SETTINGS,
        auth_settings=auth_settings or AuthSettings(key=USER_KEY),
    )
    with app.app_context():
        app.extensions["model_registry"].db.create_all()
    return app


@pytest.fixture
def bookshop(serve: Callable[..., LiveServer], tmp_path: Path) -> Iterator[Bookshop]:
    """The bookshop on a real gevent server on a free loopback port."""
    app = bookshop_app(tmp_path / "bookshop.db")
    live = serve(app)
    with httpx.Client(base_url=live.url, timeout=10) as http:
        yield Bookshop(app, live.url, http)


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""

    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    files = Certificate(directory / "cert.pem", directory / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture
def serve_tls(certificate: Certificate) -> Iterator[Callable[[Flask], str]]:
    """``serve_tls(app)`` serves ``app`` over HTTPS on a free loopback port; returns the
    origin. Servers stop when the test ends."""
    servers: list[WSGIServer] = []

    def start(app: Flask) -> str:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(certificate.cert), str(certificate.key))
        server = WSGIServer(("127.0.0.1", 0), app, ssl_context=context, log=None, error_log=None)
        server.start()
        servers.append(server)
        return f"https://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.stop(timeout=1)
