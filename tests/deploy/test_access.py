"""Every rule of the shipped bookshop, as four clients meet it through gunicorn.

The gateway runs as deployed (gunicorn, a gevent worker, the project's resources.yaml, a
migrated database) and verifies users' tokens with ``AUTH_JWT_KEY``. The clients are the
anonymous one, the users ``alice`` and ``bob`` and the administrator ``ada``. Each case
starts from items of its own, so the cases share one gateway and run in any order.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
import httpx
import jwt
import pytest

from app.auth.command import mint_user_token
from tests.deploy.access import (
    ALGORITHM,
    ANONYMOUS,
    AUTH_KEY,
    PROBLEM,
    Actor,
    Api,
    access_env,
    describe,
    user_token,
)
from tests.deploy.gateway import PUBLIC_URL, sqlite_database
from tests.deploy.servers import gunicorn, running

ALICE = Actor.user("alice")
BOB = Actor.user("bob")
ADA = Actor.user("ada", "admin")
ACTORS = {"anonymous": ANONYMOUS, "alice": ALICE, "bob": BOB, "admin": ADA}

CATALOGUE = "Only administrators may change the catalogue."
REVIEW = "Only the author of a review and administrators may see or change it."
SIGN_IN_TO_READ = "Sign in to read reviews."
SIGN_IN_TO_WRITE = "Sign in to write a review."
TITLES = {401: "Unauthorized", 403: "Forbidden"}
CHALLENGE = 'Bearer realm="api"'


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Iterator[Api]:
    """One gunicorn-hosted gateway (one gevent worker) for the whole module."""
    directory = tmp_path_factory.mktemp("access")
    # No leeway: a token is refused from its exp on, to the second.
    env = access_env(sqlite_database(directory, migrated_sqlite), AUTH_LEEWAY="0")
    with running(gunicorn(directory, env, workers=1)) as server:
        client = Api(server.url)
        try:
            yield client
        finally:
            client.close()


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def fresh_user(prefix: str) -> Actor:
    """A user of the calling test's own (``prefix`` followed by hexadecimal digits)."""
    return Actor.user(f"{prefix}-{uuid.uuid4().hex[:10]}")


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, describe(response)
    item: dict[str, Any] = response.json()
    return item


def new_book(api: Api) -> dict[str, Any]:
    return created(
        api.request(ADA, "POST", "/books", {"title": unique("Book"), "author": "Some Writer"})
    )


def new_review(api: Api, author: Actor, book: str, rating: int = 3) -> dict[str, Any]:
    body = {"book": book, "rating": rating, "body": unique("Review")}
    return created(api.request(author, "POST", "/reviews", body))


def assert_denied(response: httpx.Response, status: int, detail: str) -> None:
    """A problem+json refusal with the declared message; 401 challenges for a bearer token."""
    assert response.status_code == status, describe(response)
    assert response.headers["Content-Type"].startswith(PROBLEM), describe(response)
    problem = response.json()
    assert (problem["status"], problem["title"], problem["detail"]) == (
        status,
        TITLES[status],
        detail,
    ), describe(response)
    if status == 401:
        assert response.headers["WWW-Authenticate"] == CHALLENGE, describe(response)
    else:
        assert "WWW-Authenticate" not in response.headers, describe(response)


def assert_status(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, describe(response)


# --- Books: the catalogue is public to read, written by administrators only -------------

Request = tuple[str, str, dict[str, Any] | None]
BOOK_REQUESTS: dict[str, Callable[[str, str], Request]] = {
    "get_collection": lambda iri, title: ("GET", "/books", None),
    "get": lambda iri, title: ("GET", iri, None),
    "post": lambda iri, title: ("POST", "/books", {"title": title, "author": "New Writer"}),
    "put": lambda iri, title: ("PUT", iri, {"title": title, "author": "Other Writer"}),
    "patch": lambda iri, title: ("PATCH", iri, {"title": title}),
    "delete": lambda iri, title: ("DELETE", iri, None),
}
# operation: status for (anonymous, alice, bob, admin)
BOOK_RULES: dict[str, tuple[int, int, int, int]] = {
    "get_collection": (200, 200, 200, 200),
    "get": (200, 200, 200, 200),
    "post": (401, 403, 403, 201),
    "put": (401, 403, 403, 200),
    "patch": (401, 403, 403, 200),
    "delete": (401, 403, 403, 204),
}
BOOK_CASES = [
    pytest.param(operation, actor, status, id=f"{operation}-{actor}")
    for operation, statuses in BOOK_RULES.items()
    for actor, status in zip(ACTORS, statuses, strict=True)
]


@pytest.mark.parametrize(("operation", "actor", "status"), BOOK_CASES)
def test_books(api: Api, operation: str, actor: str, status: int) -> None:
    book = new_book(api)
    title = unique("Title")
    method, path, body = BOOK_REQUESTS[operation](book["@id"], title)
    response = api.request(ACTORS[actor], method, path, body)

    if status >= 400:
        assert_denied(response, status, CATALOGUE)
    else:
        assert_status(response, status)
    # What the catalogue shows afterwards, to anyone.
    after = api.request(ANONYMOUS, "GET", book["@id"])
    titled = api.request(ANONYMOUS, "GET", "/books", params={"title": title}).json()
    if operation in ("put", "patch") and status < 400:
        assert after.json()["title"] == title, describe(after)
    elif operation == "delete" and status < 400:
        assert_status(after, 404)
    else:
        assert after.json() == book, describe(after)
    assert titled["totalItems"] == (1 if method in ("POST", "PUT", "PATCH") and status < 400 else 0)
    if operation == "get":
        assert response.json() == book
    if operation == "get_collection":
        assert response.json()["totalItems"] >= 1


# --- Reviews: private to their author and administrators --------------------------------

# operation: status for (anonymous, the author alice, another user bob, admin), on a
# review of alice's; a refusal's detail is the declared message (REVIEW).
REVIEW_RULES: dict[str, tuple[int, int, int, int]] = {
    "get": (401, 200, 403, 200),
    "put": (401, 200, 403, 200),
    "patch": (401, 200, 403, 200),
    "delete": (401, 204, 403, 204),
}
REVIEW_CASES = [
    pytest.param(operation, actor, status, id=f"{operation}-{actor}")
    for operation, statuses in REVIEW_RULES.items()
    for actor, status in zip(ACTORS, statuses, strict=True)
]


@pytest.mark.parametrize(("operation", "actor", "status"), REVIEW_CASES)
def test_review_items(api: Api, operation: str, actor: str, status: int) -> None:
    book = new_book(api)["@id"]
    review = new_review(api, ALICE, book)
    text = unique("Rewritten")
    # Every write also claims another author: the owner is never taken from the body.
    requests: dict[str, Request] = {
        "get": ("GET", review["@id"], None),
        "put": ("PUT", review["@id"], {"book": book, "rating": 1, "body": text, "author": "bob"}),
        "patch": ("PATCH", review["@id"], {"body": text, "author": "bob"}),
        "delete": ("DELETE", review["@id"], None),
    }
    method, path, body = requests[operation]
    response = api.request(ACTORS[actor], method, path, body)

    after = api.request(ALICE, "GET", review["@id"])
    if status >= 400:
        assert_denied(response, status, REVIEW)
        assert after.json() == review, describe(after)
        return
    assert_status(response, status)
    if operation == "get":
        assert response.json() == review
    elif operation == "delete":
        assert_status(after, 404)
        assert_status(api.request(ADA, "GET", review["@id"]), 404)
    else:
        assert response.json()["author"] == "alice", describe(response)
        assert response.json()["body"] == text
        assert after.json() == response.json(), describe(after)


@pytest.mark.parametrize(
    ("actor", "status"),
    [("anonymous", 401), ("alice", 201), ("bob", 201), ("admin", 201)],
)
def test_review_post(api: Api, actor: str, status: int) -> None:
    book = new_book(api)["@id"]
    body = {"book": book, "rating": 4, "body": unique("Mine"), "author": "mallory"}
    response = api.request(ACTORS[actor], "POST", "/reviews", body)
    if status >= 400:
        assert_denied(response, status, SIGN_IN_TO_WRITE)
        assert api.request(ADA, "GET", "/reviews", params={"book": book}).json()["totalItems"] == 0
        return
    review = created(response)
    assert review["author"] == ACTORS[actor].name
    assert api.request(ACTORS[actor], "GET", review["@id"]).json() == review
    assert_status(api.request(Actor.user("mallory"), "GET", review["@id"]), 403)


def test_review_collection_needs_a_user(api: Api) -> None:
    assert_denied(api.request(ANONYMOUS, "GET", "/reviews"), 401, SIGN_IN_TO_READ)
    for actor in (ALICE, BOB, ADA):
        response = api.request(actor, "GET", "/reviews")
        assert_status(response, 200)
        # The answer depends on who asks: shared caches must keep users apart.
        assert "Authorization" in response.headers.get("Vary", ""), describe(response)


def test_answers_that_depend_on_the_user_vary_on_authorization(api: Api) -> None:
    book = new_book(api)["@id"]
    review = new_review(api, ALICE, book)["@id"]
    for path in ("/reviews", review, "/auth/mercure"):
        response = api.request(ALICE, "GET", path)
        assert_status(response, 200)
        assert "Authorization" in response.headers.get("Vary", ""), describe(response)
    for path in ("/books", book):  # public: the token is not even read
        response = api.request(ALICE, "GET", path)
        assert_status(response, 200)
        assert "Authorization" not in response.headers.get("Vary", ""), describe(response)
    assert ALICE.token is not None
    unsigned = ALICE.token.rsplit(".", 1)[0]
    forged = Actor("alice", token=f"{unsigned}.bm90LWl0cy1zaWduYXR1cmU")  # not its signature
    for path in ("/reviews", review):  # refused for that token: a 401 depends on it too
        response = api.request(forged, "GET", path)
        assert_status(response, 401)
        assert "Authorization" in response.headers.get("Vary", ""), describe(response)


def members(page: dict[str, Any]) -> list[str]:
    return [member["@id"] for member in page["member"]]


def listing(api: Api, actor: Actor, **params: str | int) -> dict[str, Any]:
    response = api.request(actor, "GET", "/reviews", params=params)
    assert_status(response, 200)
    page: dict[str, Any] = response.json()
    return page


def walk(api: Api, actor: Actor, first: str) -> tuple[list[str], list[int]]:
    """Follow the ``next`` links from ``first``: the members met and each page's total."""
    seen: list[str] = []
    totals: list[int] = []
    url: str | None = first
    while url is not None:
        response = api.request(actor, "GET", url)
        assert_status(response, 200)
        page = response.json()
        seen += members(page)
        totals.append(page["totalItems"])
        url = page["view"].get("next")
        assert len(totals) < 50, f"endless pagination from {first}"
    return seen, totals


def test_collections_list_count_filter_and_order_only_what_the_user_may_read(api: Api) -> None:
    # Users of this test's own, so that their reviews are the only ones they may see.
    carol, dave = fresh_user("carol"), fresh_user("dave")
    book = new_book(api)["@id"]
    carols = [new_review(api, carol, book, rating)["@id"] for rating in (1, 3, 5)]
    daves = [new_review(api, dave, book, rating)["@id"] for rating in (4, 5)]
    adas = [new_review(api, ADA, book, 2)["@id"]]
    everyone = carols + daves + adas

    mine = listing(api, carol)
    assert sorted(members(mine)) == sorted(carols)
    assert mine["totalItems"] == 3
    assert listing(api, carol, book=book)["totalItems"] == 3

    # Page by page, as a client follows the links: her three reviews and nothing else.
    paged = listing(api, carol, itemsPerPage=1)
    assert paged["totalItems"] == 3
    assert len(paged["member"]) == 1
    assert paged["view"]["last"] == "/reviews?itemsPerPage=1&page=3"
    seen, totals = walk(api, carol, paged["view"]["first"])
    assert sorted(seen) == sorted(carols)
    assert totals == [3, 3, 3]
    beyond = listing(api, carol, itemsPerPage=2, page=3)
    assert (beyond["member"], beyond["totalItems"]) == ([], 3)
    second = listing(api, carol, itemsPerPage=2, page=2)
    assert (len(second["member"]), second["totalItems"]) == (1, 3)
    assert "next" not in second["view"]

    # Filters and orders reveal nothing about other users' reviews.
    for params, expected in [
        ({"author": dave.name or ""}, []),
        ({"author": "bob"}, []),
        ({"book": book, "rating[gte]": 4}, [carols[2]]),
        ({"rating[between]": "2..4"}, [carols[1]]),
        ({"rating[lt]": 3, "itemsPerPage": 1}, [carols[0]]),
    ]:
        page = listing(api, carol, **params)
        assert members(page) == expected, params
        assert page["totalItems"] == len(expected), params
    assert members(listing(api, carol, **{"order[rating]": "desc"})) == carols[::-1]
    assert members(listing(api, carol, **{"order[rating]": "asc"})) == carols
    assert members(listing(api, dave, **{"order[rating]": "desc", "book": book})) == daves[::-1]
    plain = api.request(carol, "GET", "/reviews", headers={"Accept": "application/json"})
    assert sorted(review["id"] for review in plain.json()) == sorted(
        int(iri.rsplit("/", 1)[1]) for iri in carols
    )

    # Another user sees their own only; a user with none sees an empty collection.
    assert sorted(members(listing(api, dave))) == sorted(daves)
    nobody = listing(api, fresh_user("erin"))
    assert (nobody["member"], nobody["totalItems"]) == ([], 0)

    # An administrator lists, counts, filters and pages through every review.
    everything = listing(api, ADA, book=book)
    assert sorted(members(everything)) == sorted(everyone)
    assert everything["totalItems"] == 6
    assert listing(api, ADA, book=book, author=dave.name or "")["totalItems"] == 2
    assert listing(api, ADA, book=book, **{"rating[gte]": 4})["totalItems"] == 3
    paged = listing(api, ADA, book=book, itemsPerPage=4)
    seen, totals = walk(api, ADA, paged["view"]["first"])
    assert sorted(seen) == sorted(everyone)
    assert totals == [6, 6]


# --- Subscriber tokens -----------------------------------------------------------------


def test_subscriber_tokens_name_what_each_user_may_read(api: Api) -> None:
    audiences = f"{PUBLIC_URL}/auth/mercure/audiences/reviews"
    assert_denied(
        api.request(ANONYMOUS, "GET", "/auth/mercure"),
        401,
        "Send a bearer token to obtain a Mercure subscriber token.",
    )
    assert api.subscriber_token(ALICE)["subscribe"] == [f"{audiences}/author/%22alice%22"]
    assert api.subscriber_token(BOB)["subscribe"] == [f"{audiences}/author/%22bob%22"]
    assert api.subscriber_token(ADA)["subscribe"] == [audiences]


# --- Tokens the gateway must not trust --------------------------------------------------


def _unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    """A JWT without a signature, its header saying ``alg``."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."


def _claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "ada", "roles": ["admin"], "exp": int(time.time()) + 3600, **extra}


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "forged": lambda: mint_user_token("another-key-" * 6, ALGORITHM, "ada", ("admin",)),
    "expired": lambda: mint_user_token(AUTH_KEY, ALGORITHM, "ada", ("admin",), expires_in=-120),
    "alg-none": lambda: _unsigned(_claims()),
    "alg-none-capitalized": lambda: _unsigned(_claims(), "None"),
    "other-hmac-alg": lambda: mint_user_token(AUTH_KEY, "HS512", "ada", ("admin",)),
    "not-yet-valid": lambda: jwt.encode(_claims(nbf=int(time.time()) + 600), AUTH_KEY, ALGORITHM),
    "without-sub": lambda: jwt.encode({"roles": ["admin"]}, AUTH_KEY, ALGORITHM),
    "garbage": lambda: "not.a.jwt",
}
GUARDED_REQUESTS: list[Request] = [
    ("POST", "/books", {"title": "Forged", "author": "Nobody"}),
    ("GET", "/reviews", None),
    ("POST", "/reviews", {"book": "/books/1", "rating": 1, "body": "Forged"}),
    ("GET", "/reviews/1", None),
    ("GET", "/auth/mercure", None),
]


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_untrusted_tokens_are_refused(api: Api, kind: str) -> None:
    book = new_book(api)
    impostor = Actor("ada", ("admin",), BAD_TOKENS[kind]())
    requests = [*GUARDED_REQUESTS, *((method, book["@id"], None) for method in ("DELETE", "PATCH"))]
    for method, path, body in requests:
        response = api.request(impostor, method, path, body)
        assert response.status_code == 401, describe(response)
        assert response.headers["Content-Type"].startswith(PROBLEM), describe(response)
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith(f'{CHALLENGE}, error="invalid_token"'), describe(response)
        assert response.json()["title"] == "Unauthorized"
        assert response.json()["detail"].startswith("Invalid token: "), describe(response)
    # Public operations never read the token: the answer is the anonymous one.
    for path in ("/books", book["@id"]):
        response = api.request(impostor, "GET", path, params={"title": book["title"]})
        assert response.status_code == 200, describe(response)
        anonymous = api.request(ANONYMOUS, "GET", path, params={"title": book["title"]})
        assert response.json() == anonymous.json()
    assert api.request(ANONYMOUS, "GET", book["@id"]).json() == book


def test_a_token_in_use_is_refused_once_it_expires(api: Api) -> None:
    token = user_token("alice", expires_in=2)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    alice = Actor("alice", (), token)
    assert_status(api.request(alice, "GET", "/reviews"), 200)  # verified, then remembered
    # Its subscriber token expires with it.
    subscriber = api.subscriber_token(alice)
    assert subscriber["expiresAt"] == datetime.fromtimestamp(expires, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    while time.time() < expires + 1:
        gevent.sleep(0.1)
    for path in ("/reviews", "/auth/mercure"):
        response = api.request(alice, "GET", path)
        assert response.status_code == 401, describe(response)
        assert response.json()["detail"] == "Invalid token: Signature has expired.", describe(
            response
        )


@pytest.mark.parametrize("header", ["Basic YWRhOmFkYQ==", "Bearer", "Token abc"])
def test_other_authorization_schemes_are_refused(api: Api, header: str) -> None:
    response = api.request(ANONYMOUS, "GET", "/reviews", headers={"Authorization": header})
    assert response.status_code == 401, describe(response)
    assert response.headers["WWW-Authenticate"].startswith(f'{CHALLENGE}, error="invalid_request"')
