"""``/docs.json`` and ``/docs`` over a real gevent server, read by a real HTTP client."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from ruamel.yaml import YAML

from app import create_app, errors, openapi
from app.config import load_resources
from app.openapi import SubscriberTokenRoute, build_document
from app.settings import Settings
from tests.openapi.specs import EVERYTHING
from tests.services import LiveServer, require_chromium

ROOT = Path(__file__).resolve().parents[2]
Serve = Callable[..., LiveServer]


@pytest.fixture
def docs(serve: Serve) -> str:
    """A bare Flask app carrying only the error handlers and the documentation."""
    application = Flask(__name__)
    errors.init_app(application)
    openapi.init_app(application, EVERYTHING)
    return serve(application).url


def test_document_is_served_as_json_and_valid(docs: str) -> None:
    response = httpx.get(f"{docs}/docs.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    OpenAPIV31SpecValidator(body).validate()
    assert body == build_document(EVERYTHING)


def test_document_answers_not_modified_for_its_etag(docs: str) -> None:
    first = httpx.get(f"{docs}/docs.json")
    etag = first.headers["etag"]
    again = httpx.get(f"{docs}/docs.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_legacy_form_is_valid_openapi_30(docs: str) -> None:
    response = httpx.get(f"{docs}/docs.json", params={"spec_version": "3.0.0"})
    assert response.status_code == 200
    body = response.json()
    assert body["openapi"] == "3.0.3"
    OpenAPIV30SpecValidator(body).validate()


def test_unknown_spec_version_is_a_problem(docs: str) -> None:
    response = httpx.get(f"{docs}/docs.json", params={"spec_version": "2.0"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "spec_version" in response.json()["detail"]


def _references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_swagger_ui_page_uses_only_local_assets(docs: str) -> None:
    response = httpx.get(f"{docs}/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    references = _references(html)
    assert references, "the page must load Swagger UI's scripts and stylesheet"
    assert all(ref.startswith("/docs/assets/") for ref in references), references
    assert '"/docs.json?spec_version=3.0.0"' in html
    expected_types = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for ref in references:
        asset = httpx.get(f"{docs}{ref}")
        assert asset.status_code == 200, ref
        suffix = Path(ref).suffix
        assert expected_types[suffix] in asset.headers["content-type"], ref
        assert len(asset.content) > 100


@pytest.mark.parametrize(
    "name", ["index.html", "swagger-initializer.js", "..%2F__init__.py", "nope.js"]
)
def test_only_allowlisted_assets_are_served(docs: str, name: str) -> None:
    response = httpx.get(f"{docs}/docs/assets/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def _shipped_app(tmp_path: Path) -> Flask:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        resources_path=ROOT / "resources.yaml",
    )
    return create_app(settings, environ={})


def test_shipped_resources_give_a_valid_document(tmp_path: Path, serve: Serve) -> None:
    live = serve(_shipped_app(tmp_path))
    document: dict[str, Any] = httpx.get(f"{live.url}/docs.json").json()
    OpenAPIV31SpecValidator(document).validate()
    # Development authenticates users (with its public key), so subscriber tokens are served.
    tokens = SubscriberTokenRoute("/auth/mercure", "mercureAuthorization", "/.well-known/mercure")
    assert document == build_document(
        load_resources(ROOT / "resources.yaml"), subscriber_tokens=tokens
    )
    assert set(document["paths"]) == {
        "/books",
        "/books/{id}",
        "/reviews",
        "/reviews/{id}",
        "/auth/mercure",
    }
    names = {p["name"] for p in document["paths"]["/reviews"]["get"]["parameters"]}
    assert {"page", "itemsPerPage", "book", "rating[gt]", "publicationDate[after]"} <= names
    assert {"published", "order[rating]"} <= names
    book_names = {p["name"] for p in document["paths"]["/books"]["get"]["parameters"]}
    assert {"title", "exists[description]", "order[title]"} <= book_names
    review = document["components"]["schemas"]["Review"]["properties"]
    assert review["rating"]["minimum"] == 0
    assert review["rating"]["maximum"] == 5
    assert review["book"]["format"] == "iri-reference"


def test_api_platform_4_documentation_urls(tmp_path: Path, serve: Serve) -> None:
    """``/docs.jsonopenapi`` and ``/docs.yamlopenapi`` serve the document of ``/docs.json``."""
    live = serve(_shipped_app(tmp_path))
    document = httpx.get(f"{live.url}/docs.json").json()
    as_json = httpx.get(f"{live.url}/docs.jsonopenapi")
    assert as_json.status_code == 200
    assert as_json.headers["content-type"] == "application/vnd.openapi+json"
    assert as_json.json() == document
    as_yaml = httpx.get(f"{live.url}/docs.yamlopenapi")
    assert as_yaml.status_code == 200
    assert as_yaml.headers["content-type"] == "application/vnd.openapi+yaml"
    assert YAML(typ="safe", pure=True).load(as_yaml.text) == document
    etag = as_yaml.headers["etag"]
    again = httpx.get(f"{live.url}/docs.yamlopenapi", headers={"If-None-Match": etag})
    assert again.status_code == 304
    legacy = httpx.get(f"{live.url}/docs.yamlopenapi", params={"spec_version": "3.0.0"})
    OpenAPIV30SpecValidator(YAML(typ="safe", pure=True).load(legacy.text)).validate()


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "application/ld+json; charset=utf-8"),
        ("*/*", "application/ld+json; charset=utf-8"),
        ("application/ld+json", "application/ld+json; charset=utf-8"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/html; charset=utf-8"),
        ("application/vnd.openapi+json", "application/vnd.openapi+json"),
        ("application/json", "application/json"),
        ("application/vnd.openapi+yaml", "application/vnd.openapi+yaml"),
    ],
)
def test_docs_negotiates_its_format(
    tmp_path: Path, serve: Serve, accept: str | None, content_type: str
) -> None:
    live = serve(_shipped_app(tmp_path))
    headers = {"Accept": accept} if accept else {}
    with httpx.Client() as client:
        if accept is None:
            del client.headers["Accept"]
        response = client.get(f"{live.url}/docs", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert "Accept" in response.headers["vary"]
    if content_type.startswith("application/ld+json"):
        assert response.json()["@type"] == "ApiDocumentation"
    elif "openapi+json" in content_type or content_type == "application/json":
        assert response.json()["openapi"] == "3.1.0"


def test_docs_refuses_what_it_cannot_serve(tmp_path: Path, serve: Serve) -> None:
    live = serve(_shipped_app(tmp_path))
    response = httpx.get(f"{live.url}/docs", headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert "application/vnd.openapi+json" in response.json()["detail"]


@pytest.mark.browser
def test_swagger_ui_renders_every_operation_in_chromium(tmp_path: Path, serve: Serve) -> None:
    chromium = require_chromium()
    live = serve(_shipped_app(tmp_path))
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"{live.url}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    dom = result.stdout
    assert "Unable to render this definition" not in dom
    assert "Bookshop" in dom
    rendered = set(
        re.findall(
            r'opblock-summary-method">([A-Z]+)</span>'
            r'<span class="opblock-summary-path" data-path="([^"]+)"',
            dom,
        )
    )
    expected = {
        (method, path)
        for base in ("/books", "/reviews")
        for method, path in [
            ("GET", base),
            ("POST", base),
            ("GET", f"{base}/{{id}}"),
            ("PUT", f"{base}/{{id}}"),
            ("PATCH", f"{base}/{{id}}"),
            ("DELETE", f"{base}/{{id}}"),
        ]
    }
    expected.add(("GET", "/auth/mercure"))
    assert rendered == expected
