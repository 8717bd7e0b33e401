"""Derived routes and tables, and the name rules."""

from __future__ import annotations

import pytest

from app.config.naming import (
    default_route,
    default_table,
    field_name_problem,
    pascal_case,
    resource_name_problem,
    route_problem,
    table_problem,
)


@pytest.mark.parametrize(
    ("name", "route", "table"),
    [
        ("Book", "/books", "book"),
        ("Review", "/reviews", "review"),
        ("Category", "/categories", "category"),
        ("BookReview", "/book_reviews", "book_review"),
        ("Person", "/people", "person"),
        ("Address", "/addresses", "address"),
        ("APIKey", "/api_keys", "api_key"),
    ],
)
def test_defaults(name: str, route: str, table: str) -> None:
    assert (default_route(name), default_table(name)) == (route, table)


@pytest.mark.parametrize(
    ("name", "valid"),
    [("Book", True), ("B2", True), ("book", False), ("Book_Review", False), ("2Book", False)],
)
def test_resource_names(name: str, valid: bool) -> None:
    assert (resource_name_problem(name) is None) == valid


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("title", True),
        ("publicationDate", True),
        ("a_1", True),
        ("_private", False),
        ("first name", False),
        ("id", False),
        ("query", False),
        ("def", False),
    ],
)
def test_field_names(name: str, valid: bool) -> None:
    assert (field_name_problem(name) is None) == valid


@pytest.mark.parametrize(
    ("route", "valid"),
    [
        ("/books", True),
        ("/shop/v1/books", True),
        ("/books-2.x", True),
        ("books", False),
        ("/books/", False),
        ("/", False),
        ("/a b", False),
        ("/docs", False),
        ("/docs.json", False),
        ("/contexts", False),
        ("/.well-known", False),
    ],
)
def test_routes(route: str, valid: bool) -> None:
    assert (route_problem(route) is None) == valid


@pytest.mark.parametrize(
    ("table", "valid"), [("book", True), ("_t2", True), ("Book", False), ("a" * 64, False)]
)
def test_tables(table: str, valid: bool) -> None:
    assert (table_problem(table) is None) == valid


@pytest.mark.parametrize(
    ("name", "suggestion"), [("book_review", "BookReview"), ("book-review", "BookReview")]
)
def test_pascal_case(name: str, suggestion: str) -> None:
    assert pascal_case(name) == suggestion
