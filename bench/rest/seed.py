"""The benchmark database: the gateway's own tables for the shipped ``resources.yaml``.

Tables come from the gateway's models (``create_all`` on its metadata, which is also what
the shipped migrations produce), so the hand-written app reads exactly the same shapes.
Rows are deterministic: the same ``books`` count always gives the same file contents.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import sqlalchemy as sa

PAGE_SIZE = 30
"""Books per collection page (the shipped ``items_per_page``)."""

NEW_BOOK = {
    "title": "A benchmark of books",
    "author": "Bench Marker",
    "description": "Written once per request.",
    "publicationDate": "2024-05-01",
}
"""The body of every ``POST /books``."""


def replaced_book(n: int) -> dict[str, object]:
    """The body of the ``n``-th ``PUT``: it changes the stored book every time."""
    return {
        "isbn": None,
        "title": "A benchmark of books, revised",
        "author": "Bench Marker",
        "description": f"Replaced by request {n}.",
        "publicationDate": "2024-06-01",
    }


def patched_book(n: int) -> dict[str, object]:
    """The body of the ``n``-th ``PATCH``: it changes the stored book every time."""
    return {"description": f"Patched by request {n}."}


MEMORY_DIRECTORY = Path("/dev/shm")


def database_directory(prefix: str) -> Path:
    """A new directory for the benchmark's database files: in memory (``/dev/shm``) when
    the machine has one, else the usual temporary directory.

    On disk every ``POST`` pays an ``fsync`` at commit whose time is counted as the
    server's system CPU and varies between runs by more than the two apps differ; in
    memory the figures measure the apps' own work.
    """
    memory = MEMORY_DIRECTORY if MEMORY_DIRECTORY.is_dir() else None
    return Path(tempfile.mkdtemp(prefix=prefix, dir=memory))


def seed(database: Path, *, books: int, reviews_per_book: int = 2) -> None:
    """Create the tables in the new SQLite file ``database`` and insert the rows."""
    from bench.rest.serve import build

    app = build("generic", database)
    registry = app.extensions["model_registry"]
    db = registry.db
    book_table = registry.model("Book").__table__
    review_table = registry.model("Review").__table__
    first = dt.date(2000, 1, 1)
    with app.app_context():
        db.create_all()
        db.session.execute(
            sa.insert(book_table),
            [
                {
                    "isbn": f"978{n:010d}",
                    "title": f"Book number {n}",
                    "description": None if n % 5 == 0 else f"What book {n} is about.",
                    "author": f"Author {n % 97}",
                    "publication_date": first + dt.timedelta(days=n),
                }
                for n in range(1, books + 1)
            ],
        )
        db.session.execute(
            sa.insert(review_table),
            [
                {
                    "rating": (n + k) % 6,
                    "body": f"Review {k} of book {n}.",
                    "author": f"Reader {k}",
                    "publication_date": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
                    + dt.timedelta(hours=n + k),
                    "published": True,
                    "book_id": n,
                }
                for n in range(1, books + 1)
                for k in range(reviews_per_book)
            ],
        )
        db.session.commit()
        db.engine.dispose()
