"""Swagger UI at ``/docs`` in headless Chromium: Authorize with a bearer token, Try it out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.services import LiveServer
from tests.ui.browser import TIMEOUT_MS
from tests.ui.gateway import Gateway, start_gateway, user_token

pytestmark = pytest.mark.browser

OPERATION = "#operations-Book-postBook"


@pytest.fixture
def gateway(serve: Callable[..., LiveServer], tmp_path: Path) -> Gateway:
    return start_gateway(serve, tmp_path / "docs.sqlite")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def open_docs(page: Page, gateway: Gateway) -> None:
    page.goto(gateway.url + "/docs")
    page.wait_for_selector(OPERATION)


def authorize(page: Page, token: str) -> None:
    """Enter ``token`` for the bearer scheme in Swagger UI's Authorize dialog."""
    page.click("button.btn.authorize")
    dialog = page.locator(".modal-ux")
    dialog.locator("input").fill(token)
    dialog.locator("button.btn.modal-btn.auth.authorize").click()
    dialog.locator("button.btn-done").click()
    page.wait_for_selector(".modal-ux", state="detached")


def try_post_book(page: Page, book: dict[str, str]) -> str:
    """Send ``POST /books`` through "Try it out"; the status Swagger UI shows."""
    operation = page.locator(OPERATION)
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("textarea.body-param__text").fill(json.dumps(book))
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status")
    status.wait_for()
    return status.inner_text().strip()


def test_an_authorized_admin_creates_a_book_through_try_it_out(
    gateway: Gateway, page: Page
) -> None:
    open_docs(page, gateway)
    authorize(page, user_token("root", "admin"))
    # The lock of a secured operation now shows it is authorized.
    assert page.locator(f"{OPERATION} .authorization__btn.locked").count() == 1

    assert try_post_book(page, {"title": "Dune", "author": "Frank Herbert"}) == "201"
    with gateway.app.app_context():
        (book,) = gateway.db.session.scalars(gateway.db.select(gateway.model("Book"))).all()
        assert book.title == "Dune"


def test_without_authorizing_the_api_answers_401(gateway: Gateway, page: Page) -> None:
    open_docs(page, gateway)
    assert try_post_book(page, {"title": "Dune", "author": "Frank Herbert"}) == "401"
    with gateway.app.app_context():
        assert gateway.db.session.scalars(gateway.db.select(gateway.model("Book"))).all() == []
