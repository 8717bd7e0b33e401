"""Case-insensitive search filters fold every script alike on SQLite and PostgreSQL.

Both databases fold case one character at a time with Unicode's simple mapping
(PostgreSQL's ``lower()`` under a libc locale): Cyrillic, Greek and accented Latin
letters match whatever their case, the dotted capital I matches ``i``. Neither folds
accents away, turns ``ß`` into ``ss`` or matches a final sigma with a capital one: each
query here must give the same ids on both databases, and the ids listed.
"""

# ruff: noqa: RUF001 (letters of several scripts on purpose)
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from tests.api.databases import Databases, build_app, dispose
from tests.api.specs import CATALOG

WORDS = [
    "Война и мир",  # 1
    "Crème Brûlée",  # 2
    "ΟΔΥΣΣΕΙΑ ΟΔΟΣ",  # 3
    "Straße",  # 4
    "STRASSE",  # 5
    "İstanbul",  # 6
    "ıspanak",  # 7
    "ÅNGSTRÖM",  # 8
]
STRATEGIES = ("exact", "iexact", "partial", "ipartial", "start", "istart", "end", "iend")


def _client(databases: Databases, kind: str) -> Iterator[FlaskClient]:
    app, registry = build_app(CATALOG, databases.url(kind))
    client = app.test_client()
    for word in WORDS:
        response = client.post("/words", json=dict.fromkeys(STRATEGIES, word))
        assert response.status_code == 201, response.get_data(as_text=True)
    yield client
    dispose(app, registry)


@pytest.fixture(scope="module")
def sqlite(databases: Databases) -> Iterator[FlaskClient]:
    yield from _client(databases, "sqlite")


@pytest.fixture(scope="module")
def postgres(databases: Databases) -> Iterator[FlaskClient]:
    yield from _client(databases, "postgres")


def ids(client: FlaskClient, query: str) -> list[int]:
    response = client.get("/words", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(member["id"] for member in response.get_json()["member"])


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Cyrillic
        ("ipartial=война", [1]),
        ("ipartial=ВОЙНА", [1]),
        ("iexact=война И МИР", [1]),
        ("istart=вОйН", [1]),
        ("iend=МИР", [1]),
        ("partial=война", []),
        # Latin with accents: case folds, accents stay
        ("ipartial=crème", [2]),
        ("iexact=CRÈME BRÛLÉE", [2]),
        ("iend=BRÛLÉE", [2]),
        ("ipartial=creme", []),
        ("istart=ångström", [8]),
        ("ipartial=ö", [8]),
        # Greek: a capital sigma is a small sigma, never a final one
        ("ipartial=οδυσσεια", [3]),
        ("iend=οδοσ", [3]),
        ("iend=οδος", []),
        ("istart=Οδυσσ", [3]),
        # German sharp s: the capital folds to it; it is not "ss"
        ("ipartial=straße", [4]),
        ("ipartial=STRAẞE", [4]),
        ("iexact=strasse", [5]),
        ("ipartial=ss", [5]),
        # Turkish: dotted capital I is "i", dotless i matches only itself
        ("istart=istanbul", [6]),
        ("iexact=İSTANBUL", [6]),
        ("ipartial=I", [6]),
        ("istart=ı", [7]),
        ("istart=ISPANAK", []),
        # wildcards in a non-ASCII value still match themselves
        ("ipartial=%25ВОЙНА", []),
        ("ipartial=в_йна", []),
        ("ipartial[]=мир&ipartial[]=ΟΔΟΣ", [1, 3]),
    ],
)
def test_case_insensitive_filters_agree_on_both_databases(
    sqlite: FlaskClient, postgres: FlaskClient, query: str, expected: list[int]
) -> None:
    assert ids(sqlite, query) == expected
    assert ids(postgres, query) == expected
