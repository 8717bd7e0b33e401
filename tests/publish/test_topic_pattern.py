"""The URL Pattern form of ``resources.yaml`` topic templates matches what they expand to."""

from __future__ import annotations

import pytest
from urlpattern import URLPattern

from app.publish.topic import IRI_PLACEHOLDER, expand, url_pattern

ORIGIN = "http://localhost:8000"


@pytest.mark.parametrize(
    ("template", "pattern", "values", "others"),
    [
        (IRI_PLACEHOLDER, f"{ORIGIN}/books/:id", {}, [f"{ORIGIN}/books/1/reviews"]),
        (
            "/books/{book.id}/reviews/{id}",
            f"{ORIGIN}/books/:book_id/reviews/:id",
            {("book", "id"): 7, ("id",): "a b/c"},
            [f"{ORIGIN}/books/7/reviews", f"{ORIGIN}/authors/7/reviews/1"],
        ),
        (
            "https://feeds.example:8443/shelves/{+path}",
            "https://feeds.example:8443/shelves/:path(.*)",
            {("path",): "a/b/c"},
            ["https://feeds.example/shelves/a"],
        ),
        (
            "/p/{id}x(1)*",
            f"{ORIGIN}/p/{{:id}}x\\(1\\)\\*",
            {("id",): 5},
            [f"{ORIGIN}/p/5x1"],
        ),
    ],
)
def test_the_pattern_matches_exactly_the_expansions(
    template: str, pattern: str, values: dict[tuple[str, ...], object], others: list[str]
) -> None:
    assert url_pattern(template, ORIGIN, "/books") == pattern
    compiled = URLPattern(pattern)
    iri = f"{ORIGIN}/books/1"
    topic = expand(template, lambda path: values[path], iri)
    if not topic.startswith("http"):
        topic = ORIGIN + topic
    assert compiled.test(topic), topic
    for other in others:
        assert not compiled.test(other), other


def test_a_relative_template_stays_relative_without_an_origin() -> None:
    assert url_pattern("/books/{id}", "", "/books") == "/books/:id"
    assert url_pattern(IRI_PLACEHOLDER, "", "/books") == "/books/:id"
