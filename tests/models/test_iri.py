"""Item IRIs are built and parsed for one resource only (table-driven)."""

from __future__ import annotations

import pytest

from app.config.spec import ResourceSpec
from app.models import iri_for_id, item_iri, parse_iri

BOOK = ResourceSpec("Book", "/books", "book")


class _Obj:
    id = 7


def test_item_iri() -> None:
    assert item_iri(BOOK, _Obj()) == "/books/7"
    assert iri_for_id(BOOK, 12) == "/books/12"


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        ("/books/1", 1),
        ("/books/42", 42),
        ("http://localhost:8000/books/3", 3),
        ("https://shop.example/books/4", 4),
        ("/books/0", None),
        ("/books/01", None),
        ("/books/x", None),
        ("/books/1/reviews", None),
        ("/books/1?x=1", None),
        ("/books/1#top", None),
        ("/books", None),
        ("/books/", None),
        ("/reviews/1", None),
        ("/booksx/1", None),
        ("", None),
        ("/books/99999999999999999999", None),
    ],
)
def test_parse_iri(iri: str, expected: int | None) -> None:
    assert parse_iri(BOOK, iri) == expected
