"""The shipped bookshop, built by the real app factory on migrated databases."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.auth.command import mint_user_token
from tests.api.conftest import BOOKSHOP_USER_KEY as USER_KEY

ROOT = Path(__file__).resolve().parents[2]
MERGE = {"Content-Type": "application/merge-patch+json"}
"""The gateway's ``AUTH_JWT_KEY``: users' tokens are signed with it."""


def bearer(subject: str, *roles: str) -> dict[str, str]:
    """The ``Authorization`` header of a user's token, minted as ``flask auth token`` does."""
    token = mint_user_token(USER_KEY, "HS256", subject, roles, expires_in=3600)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer("admin", "admin")
KIM = bearer("Kim")


def test_books_and_reviews(bookshop: httpx.Client) -> None:
    book = bookshop.post(
        "/books",
        json={
            "isbn": "9780441013593",
            "title": "Dune",
            "author": "Frank Herbert",
            "description": "Spice.",
            "publicationDate": "1965-08-01",
        },
        headers=ADMIN,
    )
    assert book.status_code == 201, book.text
    assert book.json()["@id"] == "/books/1"
    assert book.headers["link"].endswith('/.well-known/mercure>; rel="mercure"')
    review = bookshop.post(
        "/reviews",
        json={"rating": 5, "body": "Great", "author": "Kim", "book": "/books/1"},
        headers=KIM,
    )
    assert review.status_code == 201, review.text
    assert review.json()["book"] == "/books/1"
    assert review.json()["published"] is True

    assert (
        bookshop.post(
            "/reviews",
            json={"rating": 6, "body": "b", "author": "Kim", "book": "/books/1"},
            headers=KIM,
        ).status_code
        == 422
    )
    missing = bookshop.post(
        "/reviews",
        json={"rating": 1, "body": "b", "author": "Kim", "book": "/books/9"},
        headers=KIM,
    )
    assert missing.json()["violations"] == [
        {"propertyPath": "book", "message": 'Item not found for "/books/9".'}
    ]
    duplicate = bookshop.post(
        "/books", json={"isbn": "9780441013593", "title": "T", "author": "A"}, headers=ADMIN
    )
    assert duplicate.status_code == 409

    assert [b["title"] for b in bookshop.get("/books?title=DUN").json()["member"]] == ["Dune"]
    reviews = bookshop.get("/reviews?book=/books/1&rating[gte]=4", headers=KIM)
    assert reviews.json()["totalItems"] == 1
    assert bookshop.get("/books?exists[description]=false").json()["totalItems"] == 0

    patched = bookshop.patch("/books/1", json={"description": None}, headers={**MERGE, **ADMIN})
    assert patched.json()["description"] is None
    assert bookshop.delete("/books/1", headers=ADMIN).status_code == 204
    assert bookshop.get("/reviews/1", headers=KIM).status_code == 404
    assert bookshop.get("/", headers={"Accept": "application/ld+json"}).json()["book"] == "/books"
    browser = bookshop.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")
