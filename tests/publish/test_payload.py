"""Update data and absolute IRIs."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from app.publish.payload import DEFAULT_ORIGIN, absolute, deleted_data, item_data, origin


@pytest.mark.parametrize(
    ("base", "iri", "expected"),
    [
        ("http://h", "/books/1", "http://h/books/1"),
        ("http://h/", "/books/1", "http://h/books/1"),
        ("http://h", "https://other/x", "https://other/x"),
    ],
)
def test_absolute(base: str, iri: str, expected: str) -> None:
    assert absolute(base, iri) == expected


@pytest.mark.parametrize(
    ("type_name", "expected"),
    [(None, {"@id": "/books/1"}), ("Book", {"@id": "/books/1", "@type": "Book"})],
)
def test_deleted_data(type_name: str | None, expected: dict[str, str]) -> None:
    assert json.loads(deleted_data("/books/1", type_name)) == expected


def test_item_data_is_compact_utf8_json() -> None:
    assert item_data({"title": "Caf\u00e9", "n": 1}) == '{"title":"Caf\u00e9","n":1}'


def test_origin_prefers_public_url_then_request_then_default() -> None:
    app = Flask(__name__)
    assert origin(None) == DEFAULT_ORIGIN
    assert origin("https://pub.example/") == "https://pub.example"
    with app.test_request_context("/x", base_url="https://req.example:444/"):
        assert origin(None) == "https://req.example:444"
        assert origin("https://pub.example") == "https://pub.example"
