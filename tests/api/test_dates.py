"""The shipped bookshop takes dates as API Platform clients send them, on both databases.

API Platform's own ``Book.publicationDate`` is a date-time, so its clients send
``2020-01-02T00:00:00+00:00`` for the bookshop's date field: the date written is stored
(in the offset written, as API Platform stores it). A date sent for a date-time field is
midnight UTC that day.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.auth.command import mint_user_token
from tests.api.conftest import BOOKSHOP_USER_KEY as USER_KEY

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {
    "Authorization": "Bearer "
    + mint_user_token(USER_KEY, "HS256", "admin", ("admin",), expires_in=3600)
}


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2020-01-02T00:00:00+00:00", "2020-01-02"),
        ("2020-01-02T23:30:00-05:00", "2020-01-02"),
        ("2020-01-02T00:30:00+02:00", "2020-01-02"),
        ("2020-01-02", "2020-01-02"),
    ],
)
def test_book_dates_take_api_platform_date_times(
    bookshop: httpx.Client, sent: str, stored: str
) -> None:
    body = {"title": "Dune", "author": "Frank Herbert", "publicationDate": sent}
    created = bookshop.post("/books", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["publicationDate"] == stored
    iri = created.json()["@id"]
    assert bookshop.get(iri).json()["publicationDate"] == stored
    found = bookshop.get("/books", params={"publicationDate[after]": stored}).json()
    assert [member["@id"] for member in found["member"]] == [iri]
    assert (
        bookshop.get("/books", params={"publicationDate[strictly_after]": stored}).json()["member"]
        == []
    )


def test_review_date_times_take_dates_as_midnight_utc(bookshop: httpx.Client) -> None:
    book = bookshop.post("/books", json={"title": "Dune", "author": "F"}, headers=ADMIN).json()
    body = {
        "rating": 5,
        "body": "Spice.",
        "book": book["@id"],
        "publicationDate": "2020-01-02",
    }
    created = bookshop.post("/reviews", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["publicationDate"] == "2020-01-02T00:00:00+00:00"
    read = bookshop.get(created.json()["@id"], headers=ADMIN).json()
    assert read["publicationDate"] == "2020-01-02T00:00:00+00:00"


def test_a_date_time_that_is_no_date_is_refused(bookshop: httpx.Client) -> None:
    body = {"title": "Dune", "author": "F", "publicationDate": "2020-02-30T00:00:00+00:00"}
    refused = bookshop.post("/books", json=body, headers=ADMIN)
    assert refused.status_code == 422
    assert refused.json()["violations"] == [
        {"propertyPath": "publicationDate", "message": "Not a valid date."}
    ]
