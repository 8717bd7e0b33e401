"""What a delete does in the database to other items is published: children deleted by
``on_delete: cascade`` publish their delete, children whose relation ``set_null`` clears
publish their update, also through resources that do not publish themselves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config.spec import FieldSpec, MercureSpec, RelationSpec, ResourceSpec, ResourcesSpec
from tests.publish.conftest import Library, make_library

ON = MercureSpec(enabled=True)
SHELF = ResourceSpec("Shelf", "/shelves", "shelf", (FieldSpec("label", "string"),))
BOOK = ResourceSpec(
    "Book",
    "/books",
    "book",
    (FieldSpec("title", "string"),),
    (RelationSpec("shelf", "Shelf", on_delete="set_null"),),
    mercure=ON,
)
REVIEW = ResourceSpec(
    "Review",
    "/reviews",
    "review",
    (FieldSpec("body", "text"),),
    (RelationSpec("book", "Book", required=True, nullable=False, on_delete="cascade"),),
    mercure=ON,
)
NOTE = ResourceSpec(  # does not publish, but its comments do
    "Note",
    "/notes",
    "note",
    (FieldSpec("text", "text"),),
    (RelationSpec("book", "Book", required=True, nullable=False, on_delete="cascade"),),
)
COMMENT = ResourceSpec(
    "Comment",
    "/comments",
    "comment",
    (FieldSpec("text", "text"),),
    (RelationSpec("note", "Note", required=True, nullable=False, on_delete="cascade"),),
    mercure=ON,
)
SPEC = ResourcesSpec(resources=(SHELF, BOOK, REVIEW, NOTE, COMMENT))


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    lib = make_library(tmp_path, SPEC)
    with lib.app.app_context():
        yield lib
        lib.db.session.remove()
    lib.publisher.close()


def published(lib: Library) -> list[tuple[str, dict[str, object]]]:
    return [(update.topics[0], json.loads(update.data)) for update in lib.published]


def test_a_cascade_publishes_the_delete_of_every_dependent(library: Library) -> None:
    session, model = library.db.session, library.model
    book = model["Book"](title="Dune")
    other = model["Book"](title="Emma")
    note = model["Note"](text="n", book=book)
    session.add_all(
        [
            book,
            other,
            model["Review"](body="one", book=book),
            model["Review"](body="two", book=book),
            model["Review"](body="kept", book=other),
            note,
            model["Comment"](text="c", note=note),
        ]
    )
    session.commit()
    library.published.clear()

    session.delete(session.get(model["Book"], 1))
    session.commit()

    deleted = {iri for iri, data in published(library) if set(data) == {"@id"}}
    assert deleted == {
        "http://shop.test/books/1",
        "http://shop.test/reviews/1",
        "http://shop.test/reviews/2",
        "http://shop.test/comments/1",
    }
    assert session.get(model["Review"], 3) is not None
    assert session.query(model["Comment"]).count() == 0


def test_set_null_publishes_the_update_of_every_dependent(library: Library) -> None:
    session, model = library.db.session, library.model
    shelf = model["Shelf"](label="SF")
    session.add_all([shelf, model["Book"](title="Dune", shelf=shelf)])
    session.commit()
    library.published.clear()

    session.delete(shelf)
    session.commit()

    assert published(library) == [
        (
            "http://shop.test/books/1",
            {
                "@context": "/contexts/Book",
                "@id": "/books/1",
                "@type": "Book",
                "id": 1,
                "title": "Dune",
                "shelf": None,
            },
        )
    ]
    session.expire_all()
    assert session.get(model["Book"], 1).shelf_id is None
