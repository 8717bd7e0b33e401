"""Entrypoint, JSON-LD contexts and the hand-over of ``/`` to the HTML page."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from flask import Blueprint

from app.api.documents import hydra_context
from tests.api.conftest import AppFactory
from tests.api.specs import CATALOG
from tests.services import LiveServer


def test_entrypoint_lists_collections(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.headers["content-type"] == "application/ld+json; charset=utf-8"
    assert response.json() == {
        "@context": "/contexts/Entrypoint",
        "@id": "/",
        "@type": "Entrypoint",
        "maker": "/makers",
        "gadget": "/gadgets",
        "part": "/parts",
        "word": "/words",
        "note": "/notes",
    }
    plain = client.get("/", headers={"Accept": "application/json"}).json()
    assert plain["gadget"] == "/gadgets"
    assert "@id" not in plain


def test_entrypoint_without_html_page_refuses_html(client: httpx.Client) -> None:
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 406


def test_browsers_get_the_html_page_when_there_is_one(
    make_app: AppFactory, serve: Callable[..., LiveServer]
) -> None:
    app, _registry = make_app(CATALOG)
    web = Blueprint("web", __name__)
    web.add_url_rule("/live", "index", lambda: "<h1>live</h1>")
    app.register_blueprint(web)
    live = serve(app)
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = httpx.get(f"{live.url}/", headers={"Accept": browser})
    assert page.status_code == 200
    assert page.text == "<h1>live</h1>"
    assert httpx.get(f"{live.url}/", headers={"Accept": "*/*"}).json()["@type"] == "Entrypoint"
    assert httpx.get(f"{live.url}/").json()["@type"] == "Entrypoint"


def test_resource_context(client: httpx.Client) -> None:
    hydra, context = client.get("/contexts/Part").json()["@context"]
    assert hydra == hydra_context()
    assert context["@vocab"] == f"{client.base_url}/docs.jsonld#"
    assert context["hydra"] == "http://www.w3.org/ns/hydra/core#"
    assert context["label"] == "Part/label"
    assert context["gadget"] == {"@id": "Part/gadget", "@type": "@id"}


@pytest.mark.parametrize("name", ["Entrypoint", "Error", "ConstraintViolation"])
def test_generic_contexts(client: httpx.Client, name: str) -> None:
    response = client.get(f"/contexts/{name}")
    assert response.status_code == 200
    hydra, terms = response.json()["@context"]
    assert hydra == hydra_context()
    assert "@vocab" in terms


def test_contexts_carry_hydra_terms_inline() -> None:
    """Hydra's own context, shipped with the app: no client fetches it from the W3C."""
    terms = hydra_context()
    assert terms["hydra"] == "http://www.w3.org/ns/hydra/core#"
    assert terms["title"] == "hydra:title"
    assert terms["description"] == "hydra:description"
    assert terms["member"] == {"@id": "hydra:member", "@type": "@id"}
    assert terms["totalItems"] == "hydra:totalItems"


def test_every_context_referenced_by_documents_exists(client: httpx.Client) -> None:
    client.post("/gadgets", json={"name": "x"})
    invalid = client.post("/gadgets", json={})
    referenced = {
        client.get("/").json()["@context"],
        client.get("/gadgets").json()["@context"],
        client.get("/gadgets/1").json()["@context"],
        client.get("/gadgets/404").json()["@context"],
        invalid.json()["@context"],
    }
    for iri in referenced:
        assert client.get(iri).status_code == 200, iri
