"""Every kind of answer of the gateway carries the security headers, once, with one value.

REST (JSON-LD, problem+json for every error status), the hub (text/plain errors, publish,
preflight, subscriptions API, event streams), ``/docs`` and its assets, the live page and
the debug UI with theirs, redirects and unexpected failures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.auth import AuthSettings
from app.auth.command import mint_user_token
from app.headers import EXTENSION_KEY
from app.hub.headers import content_security_policy
from app.hub.settings import HubSettings
from app.publish import EXTENSION_KEY as PUBLISHER_KEY
from app.settings import Settings
from tests.publish.gateway import bookshop
from tests.services import LiveServer, hs256_token
from tests.ui.gateway import JSON_LD, start_gateway
from tests.ui.gateway import token as hub_token

POLICY = (
    "default-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
EXPECTED = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "0",
}
JWT_KEY = "headers-tests-hub-key-of-at-least-32-bytes"
USER_KEY = "headers-tests-users-key-of-at-least-32-bytes"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


HTML = {"Accept": "text/html"}


def assert_security_headers(values_of: Callable[[str], list[str]]) -> None:
    """``values_of(name)``: every value the answer has for header ``name``."""
    for name, value in EXPECTED.items():
        assert values_of(name) == [value], name


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    database = tmp_path_factory.mktemp("headers") / "db.sqlite"
    app = create_app(
        Settings(database_url=f"sqlite:///{database}"),
        spec=bookshop(),
        hub_settings=HubSettings(
            publisher_key=JWT_KEY, subscriber_key=JWT_KEY, ui=True, subscriptions=True
        ),
        auth_settings=AuthSettings(key=USER_KEY),
        environ={},
    )
    app.testing = False  # an unexpected exception is a 500 answer, as in production

    @app.get("/test-only/failure")
    def failure() -> str:
        raise RuntimeError("a fault no handler expects")

    with app.app_context():
        app.extensions["model_registry"].db.create_all()
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def user(subject: str, *roles: str) -> dict[str, str]:
    return bearer(mint_user_token(USER_KEY, "HS256", subject, roles, expires_in=3600))


def hub(**selectors: list[str]) -> dict[str, str]:
    return bearer(hs256_token(JWT_KEY, **selectors))


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    headers: Callable[[], dict[str, str]] = dict
    body: bytes | None = None
    form: dict[str, str] = field(default_factory=dict)


BOOK = json.dumps({"title": "Dune", "author": "Frank Herbert"}).encode()
CASES = {
    "live page": Case("GET", "/", 200, lambda: HTML),
    "entrypoint": Case("GET", "/", 200, lambda: {"Accept": "application/ld+json"}),
    "collection": Case("GET", "/books", 200),
    "collection, HEAD": Case("HEAD", "/books", 200),
    "created": Case("POST", "/books", 201, lambda: {**JSON_LD, **user("root", "admin")}, BOOK),
    "invalid item": Case(
        "POST", "/books", 422, lambda: {**JSON_LD, **user("root", "admin")}, b"{}"
    ),
    "malformed body": Case(
        "POST", "/books", 400, lambda: {**JSON_LD, **user("root", "admin")}, b"{"
    ),
    "anonymous write": Case("POST", "/books", 401, lambda: JSON_LD, BOOK),
    "forbidden write": Case("POST", "/books", 403, lambda: {**JSON_LD, **user("reader")}, BOOK),
    "unsupported media type": Case(
        "POST", "/books", 415, lambda: {"Content-Type": "text/csv", **user("root", "admin")}, b"a"
    ),
    "missing item": Case("GET", "/books/999", 404),
    "no such route": Case("GET", "/nowhere", 404),
    "method not allowed": Case("DELETE", "/books", 405),
    "preflight": Case(
        "OPTIONS",
        "/books",
        200,
        lambda: {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    ),
    "JSON-LD context": Case("GET", "/contexts/Book", 200),
    "Hydra documentation": Case("GET", "/docs.jsonld", 200),
    "OpenAPI document": Case("GET", "/docs.json", 200),
    "unserved OpenAPI version": Case("GET", "/docs.json?spec_version=2.0", 400),
    "Swagger UI": Case("GET", "/docs", 200),
    "Swagger UI script": Case("GET", "/docs/assets/swagger-ui-bundle.js", 200),
    "Swagger UI start script": Case("GET", "/docs/assets/swagger-ui-start.js", 200),
    "Swagger UI page style": Case("GET", "/docs/assets/swagger-ui-page.css", 200),
    "unlisted Swagger UI file": Case("GET", "/docs/assets/index.html", 404),
    "AsyncAPI document": Case("GET", "/docs.asyncapi.json", 200),
    "AsyncAPI document, YAML": Case("GET", "/docs.asyncapi.yaml", 200),
    "AsyncAPI renderer": Case("GET", "/docs/asyncapi/assets/asyncapi-react.js", 200),
    "unlisted AsyncAPI file": Case("GET", "/docs/asyncapi/assets/index.html", 404),
    "live page script": Case("GET", "/web/static/live.js", 200),
    "missing live page file": Case("GET", "/web/static/nothing.js", 404),
    "sign out": Case("POST", "/web/sign-out", 204),
    "subscriber token": Case("GET", "/auth/mercure", 200, lambda: user("root", "admin")),
    "subscriber token, anonymous": Case("GET", "/auth/mercure", 401),
    "hub, no topic": Case("GET", "/.well-known/mercure", 400),
    "hub, subscriber refused": Case(
        "GET", "/.well-known/mercure?topic=x", 401, lambda: bearer("not-a-token")
    ),
    "hub, HEAD": Case("HEAD", "/.well-known/mercure?topic=x", 200),
    "hub, preflight": Case("OPTIONS", "/.well-known/mercure", 200),
    "hub, publish refused": Case("POST", "/.well-known/mercure", 401, form={"topic": "x"}),
    "hub, publish": Case(
        "POST", "/.well-known/mercure", 200, lambda: hub(publish=["*"]), form={"topic": "x"}
    ),
    "hub, bad form": Case(
        "POST",
        "/.well-known/mercure",
        400,
        lambda: {**hub(publish=["*"]), "Content-Type": "application/x-www-form-urlencoded"},
        b"topic=%zz",
    ),
    "subscriptions": Case(
        "GET", "/.well-known/mercure/subscriptions", 200, lambda: hub(subscribe=["*"])
    ),
    "subscriptions, refused": Case("GET", "/.well-known/mercure/subscriptions", 401),
    "subscription, unknown": Case(
        "GET",
        "/.well-known/mercure/subscriptions/x/urn:uuid:0",
        404,
        lambda: hub(subscribe=["*"]),
    ),
    "debug UI": Case("GET", "/.well-known/mercure/ui/", 200),
    "debug UI, redirect": Case("GET", "/.well-known/mercure/ui", 308),
    "debug UI script": Case("GET", "/.well-known/mercure/ui/static/ui.js", 200),
    "unexpected failure": Case("GET", "/test-only/failure", 500),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_kind_of_answer_carries_the_security_headers(client: FlaskClient, case: Case) -> None:
    with client.open(
        case.path, method=case.method, headers=case.headers(), data=case.form or case.body
    ) as response:
        assert response.status_code == case.status, response.get_data(as_text=True)
        assert_security_headers(response.headers.getlist)


def test_the_asyncapi_page_alone_may_evaluate_scripts(client: FlaskClient) -> None:
    """Its renderer's parser compiles schemas into functions: ``'unsafe-eval'``, nothing
    else, and for that page only."""
    response = client.get("/docs/asyncapi")
    assert response.status_code == 200
    expected = {**EXPECTED, "Content-Security-Policy": POLICY + "; script-src 'self' 'unsafe-eval'"}
    for name, value in expected.items():
        assert response.headers.getlist(name) == [value], name


def test_an_event_stream_carries_them_from_its_first_byte(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    gateway = start_gateway(serve, tmp_path / "stream.sqlite")
    with (
        httpx.Client(base_url=gateway.url, timeout=10) as client,
        client.stream(
            "GET",
            "/.well-known/mercure",
            params={"topic": "https://example.com/books/{id}"},
            headers=bearer(hub_token(subscribe=["*"])),
        ) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert_security_headers(stream.headers.get_list)


@pytest.mark.parametrize(
    ("urls", "connect"),
    [
        ((), "connect-src 'self'"),
        ((None, "/.well-known/mercure"), "connect-src 'self'"),
        (
            (
                "https://hub.example/.well-known/mercure",
                "https://hub.example/.well-known/mercure?x=1",
                "http://other.example:3000/hub",
                None,
            ),
            "connect-src 'self' http://other.example:3000 https://hub.example",
        ),
        (("mailto:hub@example.com", "//hub.example/x"), "connect-src 'self'"),
    ],
)
def test_connect_src_names_the_origins_of_hubs_elsewhere(
    urls: tuple[str | None, ...], connect: str
) -> None:
    directives = content_security_policy(urls).split("; ")
    assert connect in directives
    assert [d for d in directives if d.startswith("connect-src")] == [connect]


@pytest.fixture
def external_hub_app(tmp_path: Path) -> Iterator[Flask]:
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "MERCURE_PUBLISH_URL": "http://hub.internal:3000/.well-known/mercure",
        "MERCURE_SUBSCRIBE_URL": "https://hub.example/.well-known/mercure",
        "MERCURE_JWT_TOKEN": "a-publisher-token",
    }
    app = create_app(environ=environ)
    yield app
    app.extensions[PUBLISHER_KEY].close()


def test_the_live_page_may_connect_to_an_external_hub(external_hub_app: Flask) -> None:
    response = external_hub_app.test_client().get("/", headers=HTML)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "connect-src 'self' https://hub.example;" in policy
    assert "hub.internal" not in policy
    assert external_hub_app.extensions[EXTENSION_KEY]["Content-Security-Policy"] == policy
