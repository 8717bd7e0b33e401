"""Session events -> updates after commit, through real models on a real SQLite file."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.config.spec import ResourcesSpec
from tests.publish.conftest import (
    AUTHOR,
    BOOK,
    REVIEW,
    SHELF,
    Library,
    make_library,
    with_mercure,
)


def add_book(lib: Library, title: str = "Dune", isbn: str | None = "9780441013593") -> object:
    book = lib.model["Book"](title=title, isbn=isbn, secret="s3cret")
    lib.db.session.add(book)
    lib.db.session.commit()
    return book


def test_create_publishes_the_json_ld_item_on_the_absolute_iri(library: Library) -> None:
    add_book(library)

    [update] = library.published
    assert update.topics == ("http://shop.test/books/1",)
    assert json.loads(update.data) == {
        "@context": "/contexts/Book",
        "@id": "/books/1",
        "@type": "Book",
        "id": 1,
        "title": "Dune",
        "isbn": "9780441013593",
    }
    assert not update.private
    assert update.id.startswith("urn:uuid:")
    assert (update.type, update.retry) == (None, None)


def test_update_and_delete_publish_in_commit_order(library: Library) -> None:
    book = add_book(library)
    book.title = "Dune Messiah"  # type: ignore[attr-defined]
    library.db.session.commit()
    library.db.session.delete(book)
    library.db.session.commit()

    create, update, delete = library.published
    assert json.loads(update.data)["title"] == "Dune Messiah"
    assert update.topics == ("http://shop.test/books/1",)
    assert delete.topics == ("http://shop.test/books/1",)
    assert json.loads(delete.data) == {"@id": "/books/1"}
    assert len({create.id, update.id, delete.id}) == 3


def test_delete_carries_the_type_with_include_type(library: Library) -> None:
    shelf = library.model["Shelf"](label="SF")
    library.db.session.add(shelf)
    library.db.session.commit()
    library.db.session.delete(shelf)
    library.db.session.commit()

    assert json.loads(library.published[-1].data) == {"@id": "/shelves/1", "@type": "Shelf"}


def test_nothing_is_published_before_the_commit(library: Library) -> None:
    library.db.session.add(library.model["Book"](title="Dune"))
    library.db.session.flush()
    assert library.published == []
    library.db.session.commit()
    assert len(library.published) == 1


def test_a_rollback_publishes_nothing(library: Library) -> None:
    book = add_book(library)
    library.published.clear()
    book.title = "Changed"  # type: ignore[attr-defined]
    library.db.session.add(library.model["Book"](title="Never"))
    library.db.session.flush()
    library.db.session.rollback()
    library.db.session.commit()

    assert library.published == []


def test_closing_a_session_without_commit_publishes_nothing(library: Library) -> None:
    library.db.session.add(library.model["Book"](title="Never"))
    library.db.session.flush()
    library.db.session.close()
    library.db.session.commit()

    assert library.published == []


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (("create", "update", "update"), [("Third", "create")]),
        (("create", "delete"), []),
    ],
)
def test_changes_of_one_transaction_are_merged_per_item(
    library: Library, steps: tuple[str, ...], expected: list[tuple[str, str]]
) -> None:
    session = library.db.session
    book = library.model["Book"](title="First")
    titles = iter(["Second", "Third"])
    for step in steps:
        if step == "create":
            session.add(book)
        elif step == "update":
            book.title = next(titles)
        else:
            session.delete(book)
        session.flush()
    session.commit()

    assert [(json.loads(u.data)["title"], "create") for u in library.published] == expected


def test_update_then_delete_in_one_transaction_is_one_delete(library: Library) -> None:
    book = add_book(library)
    library.published.clear()
    book.title = "Changed"  # type: ignore[attr-defined]
    library.db.session.flush()
    library.db.session.delete(book)
    library.db.session.commit()

    [delete] = library.published
    assert json.loads(delete.data) == {"@id": "/books/1"}


def test_a_rolled_back_savepoint_drops_only_its_changes(library: Library) -> None:
    session = library.db.session
    session.add(library.model["Book"](title="Kept"))
    session.flush()
    savepoint = session.begin_nested()
    session.add(library.model["Book"](title="Dropped"))
    session.flush()
    savepoint.rollback()
    with session.begin_nested():
        session.add(library.model["Book"](title="Released"))
    session.commit()

    assert [json.loads(u.data)["title"] for u in library.published] == ["Kept", "Released"]


def test_a_released_savepoint_merges_into_the_enclosing_transaction(library: Library) -> None:
    session = library.db.session
    book = library.model["Book"](title="Created")
    session.add(book)
    session.flush()
    with session.begin_nested():
        book.title = "Changed in a savepoint"
    assert library.published == []
    session.commit()

    [create] = library.published
    assert json.loads(create.data)["title"] == "Changed in a savepoint"


def test_resources_without_mercure_publish_nothing(library: Library) -> None:
    library.db.session.add(library.model["Author"](name="Herbert"))
    library.db.session.commit()
    assert library.published == []


def test_a_plain_session_on_the_engine_publishes_too(library: Library) -> None:
    with Session(library.db.engine) as session:
        session.add(library.model["Book"](title="From a script"))
        session.commit()

    [update] = library.published
    assert json.loads(update.data)["title"] == "From a script"


def test_review_options_topics_private_id_type_retry(library: Library) -> None:
    book = add_book(library)
    review = library.model["Review"](body="Nice read", book=book)
    library.db.session.add(review)
    library.db.session.commit()

    update = library.published[-1]
    assert update.topics == ("http://shop.test/reviews/1", "/books/1/reviews/1")
    assert update.private
    assert update.id == "urn:review:1:Nice%20read"
    assert (update.type, update.retry) == ("review", 500)
    assert json.loads(update.data)["book"] == "/books/1"


def test_delete_topics_expand_before_the_row_is_gone(library: Library) -> None:
    book = add_book(library)
    library.db.session.add(library.model["Review"](body="Gone", book=book))
    library.db.session.commit()
    review = library.db.session.get(library.model["Review"], 1)
    library.db.session.expire_all()  # the relation must be read from the database
    library.db.session.delete(review)
    library.db.session.commit()

    delete = library.published[-1]
    assert delete.topics == ("http://shop.test/reviews/1", "/books/1/reviews/1")
    assert json.loads(delete.data) == {"@id": "/reviews/1"}


def test_normalization_groups_choose_the_published_fields(tmp_path: Path) -> None:
    spec = ResourcesSpec(
        resources=(AUTHOR, SHELF, with_mercure(BOOK, normalization_groups=("public",)), REVIEW)
    )
    lib = make_library(tmp_path, spec)
    with lib.app.app_context():
        add_book(lib)
    lib.publisher.close()

    assert json.loads(lib.published[0].data) == {
        "@context": "/contexts/Book",
        "@id": "/books/1",
        "@type": "Book",
        "id": 1,
        "isbn": "9780441013593",
    }


def test_the_data_option_replaces_the_item_but_not_the_delete_body(tmp_path: Path) -> None:
    spec = ResourcesSpec(resources=(AUTHOR, SHELF, with_mercure(BOOK, data="changed"), REVIEW))
    lib = make_library(tmp_path, spec)
    with lib.app.app_context():
        book = add_book(lib)
        lib.db.session.delete(book)
        lib.db.session.commit()
    lib.publisher.close()

    assert [u.data for u in lib.published] == ["changed", '{"@id":"/books/1"}']


def test_a_broken_template_is_logged_and_the_commit_stands(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = ResourcesSpec(
        resources=(AUTHOR, SHELF, with_mercure(BOOK, topics=("/books/{isbn}",)), REVIEW)
    )
    lib = make_library(tmp_path, spec)
    with lib.app.app_context(), caplog.at_level(logging.ERROR, "app.publish"):
        add_book(lib, title="No ISBN", isbn=None)
        add_book(lib, title="With ISBN", isbn="123")
        titles = [b.title for b in lib.db.session.query(lib.model["Book"]).all()]
    lib.publisher.close()

    assert titles == ["No ISBN", "With ISBN"]
    assert [u.topics for u in lib.published] == [("/books/123",)]
    assert "cannot build the Mercure update for a create of Book" in caplog.text
    assert "{isbn} is empty" in caplog.text


@pytest.mark.parametrize(
    ("public_url", "base_url", "topic"),
    [
        (None, None, "http://localhost/books/1"),
        (None, "https://api.example:8443", "https://api.example:8443/books/1"),
        ("https://public.example/", "http://internal:8000", "https://public.example/books/1"),
    ],
)
def test_the_origin_of_absolute_iris(
    tmp_path: Path, public_url: str | None, base_url: str | None, topic: str
) -> None:
    lib = make_library(tmp_path, public_url=public_url)
    with lib.app.app_context():
        if base_url is None:
            add_book(lib)
        else:
            with lib.app.test_request_context("/books", base_url=base_url):
                add_book(lib)
    lib.publisher.close()

    assert lib.published[0].topics == (topic,)


def test_two_apps_in_one_process_see_only_their_own_changes(tmp_path: Path) -> None:
    first = make_library(tmp_path / "first")
    second = make_library(tmp_path / "second", replace(first.registry.spec, source="second"))
    with first.app.app_context():
        add_book(first, title="First")
    with second.app.app_context():
        add_book(second, title="Second")
    first.publisher.close()
    second.publisher.close()

    assert [json.loads(u.data)["title"] for u in first.published] == ["First"]
    assert [json.loads(u.data)["title"] for u in second.published] == ["Second"]
