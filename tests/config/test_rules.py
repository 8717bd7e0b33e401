"""Document-wide rules: resources, routes and tables."""

from __future__ import annotations

from collections.abc import Callable

import pytest

CASES = [
    pytest.param(
        "resources: {}\n", "1: no resource declared at resources; declare at least one", id="none"
    ),
    pytest.param(
        "resources:\n  Book:\n    route: /books\n  Novel:\n    route: /books\n",
        "5: route '/books' is already used by resource 'Book' at resources.Novel.route",
        id="duplicate-route",
    ),
    pytest.param(
        "resources:\n  Book: {}\n  Novel:\n    route: /books\n",
        "4: route '/books' is already used by resource 'Book'",
        id="duplicate-default-route",
    ),
    pytest.param(
        "resources:\n  Book:\n    route: books/\n",
        "3: route 'books/' is not a plain path at resources.Book.route; write it like '/books'",
        id="bad-route",
    ),
    pytest.param(
        "resources:\n  Book:\n    route: /books/{id}\n",
        "3: route '/books/{id}' is not a plain path",
        id="route-with-placeholder",
    ),
    pytest.param(
        "resources:\n  Doc:\n    route: /docs\n",
        "3: route '/docs' is reserved at resources.Doc.route",
        id="reserved-route",
    ),
    pytest.param(
        "resources:\n  Context:\n    route: /contexts/x\n",
        "3: route '/contexts/x' is reserved",
        id="reserved-contexts",
    ),
    pytest.param(
        "resources:\n  Book:\n    table: Books\n",
        "3: table name 'Books' is not valid at resources.Book.table",
        id="bad-table",
    ),
    pytest.param(
        "resources:\n  Book: {}\n  Novel:\n    table: book\n",
        "4: table 'book' is already used by resource 'Book' at resources.Novel.table",
        id="duplicate-table",
    ),
    pytest.param(
        "resources:\n  Book:\n    table: alembic_version\n",
        "3: table name 'alembic_version' is reserved",
        id="reserved-table",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_document_rule(problems: Callable[..., list[str]], text: str, expected: str) -> None:
    found = problems(text)
    assert any(line.startswith(expected) for line in found), found
