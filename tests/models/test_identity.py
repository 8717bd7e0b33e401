"""An id names one item forever: ids of deleted rows are never handed out again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import models
from app.config import load_resources
from app.config.spec import FieldSpec, RelationSpec, ResourceSpec, ResourcesSpec
from app.models import ModelRegistry
from tests.api.databases import build_app, dispose

ROOT = Path(__file__).resolve().parents[2]

BOOK = ResourceSpec("Book", "/books", "book", (FieldSpec("title", "string", nullable=False),))
REVIEW = ResourceSpec(
    "Review",
    "/reviews",
    "review",
    (FieldSpec("body", "text"),),
    relations=(RelationSpec("book", "Book", nullable=False, on_delete="cascade"),),
)
SPEC = ResourcesSpec((BOOK, REVIEW))


@pytest.fixture
def http(database_url: str) -> Iterator[FlaskClient]:
    app, registry = build_app(SPEC, database_url)
    yield app.test_client()
    dispose(app, registry)


def create(http: FlaskClient, route: str, body: dict[str, object]) -> str:
    response = http.post(route, json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    iri: str = response.get_json()["@id"]
    return iri


def test_a_deleted_iri_never_names_another_item(http: FlaskClient) -> None:
    first, _second, newest = (create(http, "/books", {"title": t}) for t in ("A", "B", "C"))
    review = create(http, "/reviews", {"body": "good", "book": newest})
    assert http.delete(newest).status_code == 204
    assert http.get(review).status_code == 404  # deleted by the cascade

    book = create(http, "/books", {"title": "D"})
    assert book == "/books/4"
    assert http.get(newest).status_code == 404
    assert create(http, "/reviews", {"body": "fine", "book": book}) == "/reviews/2"

    for iri in (first, "/books/2", book):
        assert http.delete(iri).status_code == 204
    assert create(http, "/books", {"title": "E"}) == "/books/5"


def test_sqlite_tables_are_autoincrement(tmp_path: Path) -> None:
    app, registry = build_app(SPEC, f"sqlite:///{tmp_path}/ids.sqlite")
    try:
        with app.app_context():
            sql = rows_sql(registry)
        assert "AUTOINCREMENT" in sql["book"]
        assert "AUTOINCREMENT" in sql["review"]
    finally:
        dispose(app, registry)


BEFORE_IDS_KEPT = "21337c2ef063"
"""The shipped revision before tables were made ``AUTOINCREMENT`` on SQLite."""


def rows(registry: ModelRegistry, table: str) -> list[tuple[object, ...]]:
    with registry.db.engine.connect() as connection:
        result = connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))
        return [tuple(row) for row in result]


def test_the_migration_keeps_rows_and_ids_are_never_reused_after_it(database_url: str) -> None:
    spec = load_resources(ROOT / "resources.yaml")
    app = Flask("ids-migration-test")
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    registry = models.init_app(app, spec)
    book, review = registry.model("Book"), registry.model("Review")
    session = registry.db.session
    try:
        with app.app_context():
            flask_migrate.upgrade(revision=BEFORE_IDS_KEPT)
            session.add_all(book(title=t, author="A", isbn=t) for t in ("1", "2", "3", "4"))
            session.flush()
            for book_id, rating in ((2, 5), (3, 4), (4, 3), (4, 2)):
                session.add(review(rating=rating, body="b", author="u", book_id=book_id))
            session.commit()
            session.delete(session.get(book, 4))  # its reviews go with it (cascade)
            session.commit()
            session.remove()
            kept = {table: rows(registry, table) for table in ("book", "review")}
            assert len(kept["book"]) == 3
            assert len(kept["review"]) == 2

            flask_migrate.upgrade()
            assert {table: rows(registry, table) for table in ("book", "review")} == kept

            session.delete(session.get(book, 3))
            session.commit()
            newest = book(title="new", author="A")
            session.add(newest)
            session.commit()
            # Never the 3 just deleted. SQLite kept no trace of the 4 deleted before the
            # migration (the rebuilt sequence starts at the highest id present, 3);
            # PostgreSQL's sequence remembers it.
            sqlite = registry.db.engine.dialect.name == "sqlite"
            assert newest.id == (4 if sqlite else 5)
            session.remove()
            if sqlite:
                sql = rows_sql(registry)
                assert "AUTOINCREMENT" in sql["book"]
                assert "AUTOINCREMENT" in sql["review"]
                assert "AUTOINCREMENT" not in sql["mercure_outbox"]
    finally:
        with app.app_context():
            session.remove()
            registry.db.engine.dispose()


def rows_sql(registry: ModelRegistry) -> dict[str, str]:
    with registry.db.engine.connect() as connection:
        result = connection.execute(sa.text("SELECT name, sql FROM sqlite_master"))
        return {row[0]: row[1] for row in result}
