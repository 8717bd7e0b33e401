"""Topic templates: parsing and expansion, table-driven."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import Enum

import pytest

from app.publish.topic import TopicError, expand, parse, paths

IRI = "http://shop.test/reviews/7"


class Colour(Enum):
    RED = "red"


VALUES: dict[tuple[str, ...], object] = {
    ("id",): 7,
    ("book", "id"): 1,
    ("title",): "A b/c?d",
    ("flag",): True,
    ("day",): datetime.date(2024, 5, 1),
    ("price",): Decimal("9.50"),
    ("key",): uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ("colour",): Colour.RED,
    ("missing",): None,
    ("book",): object(),
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("@iri", IRI),
        ("/books/{book.id}/reviews/{id}", "/books/1/reviews/7"),
        ("https://x.test/t/{title}", "https://x.test/t/A%20b%2Fc%3Fd"),
        ("https://x.test/t/{+title}", "https://x.test/t/A%20b/c?d"),
        ("/flags/{flag}", "/flags/true"),
        ("/days/{day}", "/days/2024-05-01"),
        ("/prices/{price}", "/prices/9.50"),
        ("/keys/{key}", "/keys/12345678-1234-5678-1234-567812345678"),
        ("/colours/{colour}", "/colours/red"),
        ("no-expression", "no-expression"),
        ("{id}{id}", "77"),
    ],
)
def test_expand(template: str, expected: str) -> None:
    assert expand(template, VALUES.__getitem__, IRI) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("/x/{missing}", "{missing} is empty"),
        ("/x/{book}", "{book} is an object, not a value"),
        ("/x/{id", "never closed"),
        ("/x/id}", "without a '{'"),
        ("/x/{}", "is not a field path"),
        ("/x/{a-b}", "is not a field path"),
        ("/x/{a.}", "is not a field path"),
    ],
)
def test_expand_errors_name_the_problem(template: str, message: str) -> None:
    with pytest.raises(TopicError, match=message.replace("{", r"\{").replace("}", r"\}")):
        expand(template, VALUES.__getitem__, IRI)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("@iri", ()),
        ("/books/{book.id}/reviews/{+id}", (("book", "id"), ("id",))),
        ("plain", ()),
    ],
)
def test_paths(template: str, expected: tuple[tuple[str, ...], ...]) -> None:
    assert paths(template) == expected


def test_parse_keeps_literals_and_expressions_in_order() -> None:
    parts = parse("a{x}b")
    assert parts[0] == "a"
    assert parts[2] == "b"
