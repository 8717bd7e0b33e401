"""Resources that refer to each other: snake_case key columns, no cycle warnings.

Tests run with warnings as errors, so creating, sorting and dropping the tables would
fail on SQLAlchemy's warning about an unresolvable cycle.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.config.spec import FieldSpec, RelationSpec, ResourceSpec, ResourcesSpec
from app.models import ModelRegistry
from tests.api.databases import build_app, dispose

PERSON = ResourceSpec(
    "Person",
    "/people",
    "person",
    (FieldSpec("name", "string", nullable=False),),
    relations=(RelationSpec("favouriteBook", "Book", on_delete="set_null"),),
)
BOOK = ResourceSpec(
    "Book",
    "/books",
    "book",
    (FieldSpec("title", "string", nullable=False),),
    relations=(
        RelationSpec("writtenBy", "Person", on_delete="set_null"),
        RelationSpec("sequel", "Book", on_delete="set_null"),
    ),
)
SPEC = ResourcesSpec((PERSON, BOOK))


@pytest.fixture
def built(database_url: str) -> Iterator[tuple[Flask, ModelRegistry]]:
    pair = build_app(SPEC, database_url)
    yield pair
    dispose(*pair)


@pytest.fixture
def http(built: tuple[Flask, ModelRegistry]) -> FlaskClient:
    return built[0].test_client()


def test_relation_columns_are_snake_case(built: tuple[Flask, ModelRegistry]) -> None:
    app, registry = built
    with app.app_context():
        inspector = sa.inspect(registry.db.engine)
        person = {column["name"] for column in inspector.get_columns("person")}
        book = {column["name"] for column in inspector.get_columns("book")}
        keys = {fk["name"]: fk["constrained_columns"] for fk in inspector.get_foreign_keys("book")}
    assert person == {"id", "name", "favourite_book_id"}
    assert book == {"id", "title", "written_by_id", "sequel_id"}
    assert keys["fk_book_written_by_id_person"] == ["written_by_id"]


def test_mutual_relations_are_served(http: FlaskClient) -> None:
    ann = http.post("/people", json={"name": "Ann"}).get_json()["@id"]
    book = http.post("/books", json={"title": "One", "writtenBy": ann})
    assert book.status_code == 201, book.get_data(as_text=True)
    one = book.get_json()["@id"]
    two = http.post("/books", json={"title": "Two", "writtenBy": ann}).get_json()["@id"]
    assert (
        http.patch(
            one, json={"sequel": two}, headers={"Content-Type": "application/merge-patch+json"}
        ).get_json()["sequel"]
        == two
    )
    answer = http.patch(
        ann, json={"favouriteBook": one}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["favouriteBook"] == one
    assert [p["name"] for p in http.get("/people?favouriteBook=" + one).get_json()["member"]] == [
        "Ann"
    ]

    assert http.delete(one).status_code == 204
    assert http.get(ann).get_json()["favouriteBook"] is None  # set_null, through the cycle
    assert http.delete(ann).status_code == 204
    assert http.get(two).get_json()["writtenBy"] is None


def test_tables_sort_and_drop_without_warnings(built: tuple[Flask, ModelRegistry]) -> None:
    app, registry = built
    names = [table.name for table in registry.metadata.sorted_tables]
    assert {"person", "book"} <= set(names)
    with app.app_context():
        registry.db.session.remove()
        registry.db.drop_all()
        assert not {"person", "book"} & set(sa.inspect(registry.db.engine).get_table_names())
        registry.db.create_all()
        assert {"person", "book"} <= set(sa.inspect(registry.db.engine).get_table_names())
