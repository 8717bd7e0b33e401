"""Filters, ordering and Mercure options refer to fields that exist and fit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

HEAD = """resources:
  Author:
    fields: {name: string}
  Book:
    fields:
      title: {type: string, required: true, groups: [public]}
      rating: integer
      released: date
      available: boolean
      extra: json
      summary: text
      page: integer
    relations:
      author: {target: Author}
"""
LINE = 15  # the line of the option under test


CASES = [
    (
        "filters: {search: {titel: partial}}",
        "unknown field 'titel' at resources.Book.filters.search.titel; did you mean 'title'?",
    ),
    (
        "filters: {search: {rating: ipartial}}",
        "strategy 'ipartial' needs a string, text or enum field, but 'rating' is an integer at "
        "resources.Book.filters.search.rating; use strategy 'exact'",
    ),
    ("filters: {search: {author: partial}}", "strategy 'partial' needs a string, text or enum"),
    ("filters: {search: {extra: exact}}", "search filter on json field 'extra'"),
    (
        "filters: {range: [title]}",
        "range filter on 'title', which is a string at resources.Book.filters.range[0]; "
        "use it only on integer or float or decimal fields",
    ),
    ("filters: {date: [rating]}", "date filter on 'rating', which is an integer"),
    ("filters: {boolean: [title]}", "boolean filter on 'title', which is a string"),
    ("filters: {range: [ratng]}", "unknown field 'ratng' at resources.Book.filters.range[0]"),
    (
        "filters: {exists: [title]}",
        "exists filter on 'title', which is never null at resources.Book.filters.exists[0]; "
        "make 'title' nullable or remove the filter",
    ),
    (
        "order: {fields: [titel]}",
        "unknown field 'titel' at resources.Book.order.fields[0]; did you mean 'title'?",
    ),
    ("filters: {exists: [id]}", "exists filter on 'id', which is never null"),
    ("order: {fields: [extra]}", "cannot order by 'extra', which is a json"),
    ("order: {default: {rank: desc}}", "unknown field 'rank' at resources.Book.order.default.rank"),
    (
        "mercure: {topics: ['/books/{idd}']}",
        "unknown placeholder '{idd}' in topic '/books/{idd}' at resources.Book.mercure.topics[0]; "
        "did you mean 'id'?",
    ),
    (
        "mercure: {topics: ['/authors/{author.nam}/books']}",
        "placeholder '{author.nam}': 'nam' is not a field of Author at "
        "resources.Book.mercure.topics[0]; did you mean 'name'?",
    ),
    (
        "mercure: {topics: ['/books/{+titel}']}",
        "unknown placeholder '{+titel}' in topic '/books/{+titel}' at "
        "resources.Book.mercure.topics[0]; did you mean 'title'?",
    ),
    (
        "mercure: {topics: ['/x/{title.id}']}",
        "placeholder '{title.id}': 'title' is not a relation",
    ),
    ("mercure: {topics: ['/books/{id']}", "unbalanced braces in topic '/books/{id'"),
    (
        "mercure: {id: 'urn:book:{nope}'}",
        "unknown placeholder '{nope}' in topic 'urn:book:{nope}' at resources.Book.mercure.id",
    ),
    (
        "mercure: {normalization_groups: [publc]}",
        "no field or relation is in group 'publc' at resources.Book.mercure."
        "normalization_groups[0]; did you mean 'public'?",
    ),
    (
        "pagination: {items_per_page: 50, maximum_items_per_page: 10}",
        "items_per_page 50 exceeds maximum_items_per_page 10",
    ),
    ("operations: []", "no operation enabled at resources.Book.operations"),
    (
        "filters: {range: [page]}",
        "a range filter on 'page' would clash with the 'page' query parameter at "
        "resources.Book.filters.range[0]; rename the field or remove the filter",
    ),
    (
        "filters: {search: {page: exact}}",
        "a search filter on 'page' would clash with the 'page' query parameter at "
        "resources.Book.filters.search.page",
    ),
    (
        "filters: {search: {available: exact}, boolean: [available]}",
        "'available' has both a search and a boolean filter; both read ?available= at "
        "resources.Book.filters.boolean[0]; keep one of them",
    ),
]


@pytest.mark.parametrize(("option", "expected"), CASES)
def test_reference_rule(problems: Callable[..., list[str]], option: str, expected: str) -> None:
    found = problems(HEAD + "    " + option + "\n")
    assert f"{LINE}: {expected}" in [line[: len(expected) + 4] for line in found], found


def test_valid_references_load(load: Callable[..., object]) -> None:
    load(
        HEAD
        + """    filters:
      search: {title: istart, rating: exact, author: exact}
      range: [rating]
      date: [released]
      boolean: [available]
      exists: [summary, author]
    order: {fields: [id, title, author], default: {title: desc}}
    mercure:
      topics: ['/books/{id}', '/authors/{author.id}/books', '/titles/{+title}', '@iri']
      normalization_groups: [public]
"""
    )
