"""The live page at ``/`` in headless Chromium follows changes made through the REST API.

Books are public; reviews are readable by their author and administrators only. A visitor
signs in by pasting a bearer token: the page reads collections as that user and obtains
the hub cookie from ``/auth/mercure``, so exactly the user's private updates arrive.

"Does not arrive" is shown without waiting for a timeout: updates reach a stream in the
order they are published, so once an update published *after* the one that must not
arrive has been shown, the earlier one would have been shown before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.services import LiveServer
from tests.ui.browser import TIMEOUT_MS
from tests.ui.gateway import JSON_LD, MERGE_PATCH, Gateway, start_gateway, user_token

pytestmark = pytest.mark.browser

ADMIN = user_token("root", "admin")
ALICE = user_token("alice")
BOB = user_token("bob")
COOKIE = "__Secure-mercure_access_token"
"""The hub speaks Mercure 1.0, so the page asks for a 1.0 token, kept in the 1.0 cookie."""


@pytest.fixture
def gateway(serve: Callable[..., LiveServer], tmp_path: Path) -> Gateway:
    return start_gateway(serve, tmp_path / "live.sqlite")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


def rest(gateway: Gateway, token: str) -> httpx.Client:
    """A REST client acting as the user of ``token``."""
    return httpx.Client(
        base_url=gateway.url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    )


def post(gateway: Gateway, token: str, route: str, body: dict[str, Any]) -> str:
    """Create an item as the user of ``token``; its IRI."""
    with rest(gateway, token) as client:
        response = client.post(route, json=body, headers=JSON_LD)
    assert response.status_code == 201, response.text
    iri: str = response.json()["@id"]
    return iri


def patch(gateway: Gateway, token: str, iri: str, body: dict[str, Any]) -> None:
    with rest(gateway, token) as client:
        response = client.patch(iri, json=body, headers=MERGE_PATCH)
    assert response.status_code == 200, response.text


def review(gateway: Gateway, token: str, book: str, body: str) -> str:
    return post(gateway, token, "/reviews", {"rating": 4, "body": body, "book": book})


def wait_for_state(page: Page, resource: str, state: str) -> None:
    page.wait_for_selector(f'#resource-{resource} .status[data-state="{state}"]')


def open_live_page(context: BrowserContext, gateway: Gateway) -> Page:
    """The page, anonymous: books live, reviews waiting for a signed-in user."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(gateway.url + "/")
    wait_for_state(page, "Book", "live")
    wait_for_state(page, "Review", "locked")
    return page


def wait_until_signed_in(page: Page, user: str) -> None:
    page.wait_for_selector(f'body[data-user="{user}"]')
    wait_for_state(page, "Book", "live")
    wait_for_state(page, "Review", "live")


def sign_in(page: Page, token: str, user: str) -> None:
    page.fill("#bearer-token", token)
    page.click("#sign-in button[type=submit]")
    wait_until_signed_in(page, user)
    assert page.inner_text("#signed-in-as") == user


def cell(page: Page, iri: str, column: str) -> str:
    return page.inner_text(f'tr[data-iri="{iri}"] td[data-column="{column}"]')


def listed(page: Page, resource: str) -> list[str]:
    rows = page.locator(f"#resource-{resource} tbody tr")
    return [rows.nth(i).get_attribute("data-iri") or "" for i in range(rows.count())]


def wait_for_text(page: Page, iri: str, column: str, text: str) -> None:
    page.wait_for_function(
        """([iri, column, text]) => document.querySelector(
               `tr[data-iri="${iri}"] td[data-column="${column}"]`)?.textContent === text""",
        arg=[iri, column, text],
    )


def test_live_page_follows_create_update_and_delete(
    gateway: Gateway, context: BrowserContext
) -> None:
    post(gateway, ADMIN, "/books", {"title": "Dune", "author": "Frank Herbert"})
    streams: list[str] = []
    context.on(
        "request",
        lambda request: (
            streams.append(request.url) if "/.well-known/mercure" in request.url else None
        ),
    )
    page = open_live_page(context, gateway)
    assert cell(page, "/books/1", "title") == "Dune"
    # Mercure 1.0: the page subscribes with the URL Pattern of the books' IRIs.
    books = [url for url in streams if "books" in unquote(url)]
    assert books
    assert all("match_urlpattern=" in url and "topic=" not in url for url in books), books
    assert unquote(books[0]).endswith(f"match_urlpattern={gateway.url}/books/:id")
    assert page.inner_text("#resource-Review .status") == "sign in to read"
    assert listed(page, "Review") == []

    post(gateway, ADMIN, "/books", {"title": "Neuromancer", "author": "William Gibson"})
    page.wait_for_selector('tr[data-iri="/books/2"]')
    assert cell(page, "/books/2", "author") == "William Gibson"

    patch(gateway, ADMIN, "/books/2", {"title": "Count Zero"})
    wait_for_text(page, "/books/2", "title", "Count Zero")

    with rest(gateway, ADMIN) as client:
        assert client.delete("/books/1").status_code == 204
    page.wait_for_selector('tr[data-iri="/books/1"]', state="detached")
    assert listed(page, "Book") == ["/books/2"]


def test_a_signed_in_user_reads_their_reviews_and_receives_only_their_updates(
    gateway: Gateway, context: BrowserContext
) -> None:
    book = post(gateway, ADMIN, "/books", {"title": "Dune", "author": "F. H."})
    mine = review(gateway, ALICE, book, "Alice's first")
    theirs = review(gateway, BOB, book, "Bob's first")
    page = open_live_page(context, gateway)

    sign_in(page, ALICE, "alice")
    assert listed(page, "Review") == [mine]
    assert cell(page, mine, "author") == "alice"

    second = review(gateway, ALICE, book, "Alice's second")
    page.wait_for_selector(f'tr[data-iri="{second}"]')
    assert cell(page, second, "body") == "Alice's second"
    patch(gateway, ALICE, mine, {"body": "Alice's first, revised"})
    wait_for_text(page, mine, "body", "Alice's first, revised")

    # Bob's new review and his change, then one of alice's as the marker.
    bobs = review(gateway, BOB, book, "Bob's second")
    patch(gateway, BOB, theirs, {"body": "Bob's first, revised"})
    marker = review(gateway, ALICE, book, "Alice's third")
    page.wait_for_selector(f'tr[data-iri="{marker}"]')
    assert sorted(listed(page, "Review")) == sorted([mine, second, marker])
    assert bobs not in listed(page, "Review")

    # The user's token stays in this tab's storage; the only cookie is the hub's
    # subscriber token, out of the page's reach.
    assert page.evaluate("sessionStorage.getItem('gateway.bearerToken')") == ALICE
    cookies = context.cookies(gateway.url + "/.well-known/mercure")
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        (COOKIE, True, "Strict")
    ]
    assert cookies[0]["value"] != ALICE
    assert context.cookies(gateway.url + "/") == []
    assert COOKIE not in page.evaluate("document.cookie")


def test_two_users_each_receive_only_their_own_updates(gateway: Gateway, browser: Browser) -> None:
    book = post(gateway, ADMIN, "/books", {"title": "Dune", "author": "F. H."})
    alice_context, bob_context = browser.new_context(), browser.new_context()
    try:
        alice = open_live_page(alice_context, gateway)
        bob = open_live_page(bob_context, gateway)
        sign_in(alice, ALICE, "alice")
        sign_in(bob, BOB, "bob")

        first = review(gateway, ALICE, book, "by alice")
        second = review(gateway, BOB, book, "by bob")
        third = review(gateway, ALICE, book, "by alice, later")
        alice.wait_for_selector(f'tr[data-iri="{third}"]')
        assert listed(alice, "Review") == [first, third]
        bob.wait_for_selector(f'tr[data-iri="{second}"]')
        fourth = review(gateway, BOB, book, "by bob, later")
        bob.wait_for_selector(f'tr[data-iri="{fourth}"]')
        assert listed(bob, "Review") == [second, fourth]
    finally:
        alice_context.close()
        bob_context.close()


def test_an_admin_sees_every_review_and_receives_every_update(
    gateway: Gateway, context: BrowserContext
) -> None:
    book = post(gateway, ADMIN, "/books", {"title": "Dune", "author": "F. H."})
    alices = review(gateway, ALICE, book, "by alice")
    bobs = review(gateway, BOB, book, "by bob")
    page = open_live_page(context, gateway)

    sign_in(page, ADMIN, "root")
    assert sorted(listed(page, "Review")) == sorted([alices, bobs])

    newest = review(gateway, BOB, book, "bob again")
    page.wait_for_selector(f'tr[data-iri="{newest}"]')
    patch(gateway, ALICE, alices, {"body": "alice, revised"})
    wait_for_text(page, alices, "body", "alice, revised")


def test_the_session_survives_a_reload_and_signing_out_ends_it(
    gateway: Gateway, context: BrowserContext
) -> None:
    book = post(gateway, ADMIN, "/books", {"title": "Dune", "author": "F. H."})
    mine = review(gateway, ALICE, book, "by alice")
    page = open_live_page(context, gateway)
    sign_in(page, ALICE, "alice")

    page.reload()
    wait_until_signed_in(page, "alice")
    assert listed(page, "Review") == [mine]

    page.click("#sign-out")
    wait_for_state(page, "Review", "locked")
    page.wait_for_selector("#sign-in", state="visible")
    wait_for_state(page, "Book", "live")
    assert listed(page, "Review") == []
    assert page.evaluate("sessionStorage.getItem('gateway.bearerToken')") is None
    assert page.evaluate("document.body.dataset.user") is None
    assert context.cookies(gateway.url + "/.well-known/mercure") == []


def test_a_refused_token_leaves_the_page_signed_out(
    gateway: Gateway, context: BrowserContext
) -> None:
    page = open_live_page(context, gateway)
    forged = user_token("mallory", "admin")[:-4] + "AAAA"
    page.fill("#bearer-token", forged)
    page.click("#sign-in button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('auth-status').textContent.startsWith('Sign-in refused')"
    )
    assert "Invalid token" in page.inner_text("#auth-status")
    assert page.is_visible("#sign-in")
    assert page.evaluate("sessionStorage.getItem('gateway.bearerToken')") is None
    assert context.cookies(gateway.url + "/.well-known/mercure") == []
    assert page.inner_text("#resource-Review .status") == "sign in to read"
