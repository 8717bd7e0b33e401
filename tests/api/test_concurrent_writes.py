"""Writes racing on PostgreSQL: a delete and a write of a related item take row locks in
an order that leaves the database as one of the two serial orders would."""

from __future__ import annotations

import gevent
import httpx
import pytest
import sqlalchemy as sa

from tests.api.test_bookshop import ADMIN, KIM

WAITING = sa.text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
)
DEADLINE = 20.0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_review_moved_away_while_its_book_is_deleted_is_kept(
    bookshop: httpx.Client, database_url: str
) -> None:
    """The delete of book 1 follows its cascades with the children locked: a review being
    moved to book 2 at that moment is waited for, and then no longer among book 1's, so
    it is not deleted with it (without the lock, the delete read the review before the
    move and deleted it anyway)."""
    for isbn in ("1", "2"):
        book = {"isbn": isbn, "title": "T", "author": "A"}
        assert bookshop.post("/books", json=book, headers=ADMIN).status_code == 201
    review = {"rating": 4, "body": "Moves.", "book": "/books/1"}
    assert bookshop.post("/reviews", json=review, headers=KIM).status_code == 201

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as mover:
            mover.execute(sa.text("SELECT id FROM review WHERE id = 1 FOR UPDATE"))
            deleting = gevent.spawn(bookshop.delete, "/books/1", headers=ADMIN)
            with engine.connect() as watcher, gevent.Timeout(DEADLINE):
                # Until the delete waits for the review's lock (or, without it, is done).
                while not deleting.ready() and not watcher.execute(WAITING).scalar():
                    gevent.sleep(0.01)
            mover.execute(sa.text("UPDATE review SET book_id = 2 WHERE id = 1"))
            mover.commit()
        assert deleting.get(timeout=DEADLINE).status_code == 204
    finally:
        engine.dispose()

    moved = bookshop.get("/reviews/1", headers=ADMIN)
    assert moved.status_code == 200, moved.text
    assert moved.json()["book"] == "/books/2"


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_review_created_while_its_book_is_deleted_is_refused(
    bookshop: httpx.Client, database_url: str
) -> None:
    """The delete of book 1 locks the book first: a review posted under it meanwhile waits
    for the delete and is then refused (its book is gone), rather than being created and
    then removed by the database's cascade without a published delete."""
    book = {"title": "T", "author": "A"}
    assert bookshop.post("/books", json=book, headers=ADMIN).status_code == 201
    review = {"rating": 4, "body": "First.", "book": "/books/1"}
    assert bookshop.post("/reviews", json=review, headers=KIM).status_code == 201

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            # Hold the delete inside its transaction, after it locked the book.
            holder.execute(sa.text("SELECT id FROM review WHERE id = 1 FOR UPDATE"))
            deleting = gevent.spawn(bookshop.delete, "/books/1", headers=ADMIN)
            with gevent.Timeout(DEADLINE):
                while not deleting.ready() and not watcher.execute(WAITING).scalar():
                    gevent.sleep(0.01)
            second = {**review, "body": "Second."}
            posting = gevent.spawn(bookshop.post, "/reviews", json=second, headers=KIM)
            with gevent.Timeout(DEADLINE):
                while not posting.ready() and watcher.execute(WAITING).scalar() < 2:
                    gevent.sleep(0.01)
            holder.rollback()
        assert deleting.get(timeout=DEADLINE).status_code == 204
        posted = posting.get(timeout=DEADLINE)
    finally:
        engine.dispose()

    assert posted.status_code in (409, 422), posted.text
    assert bookshop.get("/reviews", headers=ADMIN).json()["totalItems"] == 0
