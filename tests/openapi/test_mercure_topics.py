"""The OpenAPI document tells how to subscribe to each published resource, in both protocols."""

from __future__ import annotations

from pathlib import Path

from app.config import load_resources
from app.openapi.document import build_document

ROOT = Path(__file__).resolve().parents[2]


def test_published_resources_give_their_topics_as_templates_and_url_patterns() -> None:
    document = build_document(load_resources(ROOT / "resources.yaml"))
    books = document["paths"]["/books"]["x-mercure"]
    assert books == {
        "hub": "/.well-known/mercure",
        "private": False,
        "topic": ["/books/{id}"],
        "match_urlpattern": ["/books/:id"],
    }
    assert document["paths"]["/reviews"]["x-mercure"]["private"] is True
