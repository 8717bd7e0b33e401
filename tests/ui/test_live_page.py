"""The live page at ``/`` in headless Chromium follows changes made through the REST API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.services import LiveServer
from tests.ui.browser import TIMEOUT_MS
from tests.ui.gateway import JSON_LD, MERGE_PATCH, Gateway, start_gateway, token

pytestmark = pytest.mark.browser


def open_live_page(page: Page, gateway: Gateway) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(gateway.url + "/")
    page.wait_for_selector('#resource-Book .status[data-state="live"]')
    page.wait_for_selector('#resource-Review .status[data-state="live"]')


def cell(page: Page, iri: str, column: str) -> str:
    return page.inner_text(f'tr[data-iri="{iri}"] td[data-column="{column}"]')


def test_live_page_follows_create_update_and_delete(
    serve: Callable[..., LiveServer], tmp_path: Path, browser: Browser
) -> None:
    gateway = start_gateway(serve, tmp_path / "live.sqlite")
    with httpx.Client(base_url=gateway.url, timeout=10) as rest:
        listed = rest.post(
            "/books", json={"title": "Dune", "author": "Frank Herbert"}, headers=JSON_LD
        )
        assert listed.status_code == 201
        page = browser.new_page()
        try:
            open_live_page(page, gateway)
            assert cell(page, "/books/1", "title") == "Dune"

            created = rest.post(
                "/books", json={"title": "Neuromancer", "author": "William Gibson"}, headers=JSON_LD
            )
            assert created.status_code == 201
            page.wait_for_selector('tr[data-iri="/books/2"]')
            assert cell(page, "/books/2", "author") == "William Gibson"

            changed = rest.patch("/books/2", json={"title": "Count Zero"}, headers=MERGE_PATCH)
            assert changed.status_code == 200
            page.wait_for_function(
                """() => document.querySelector('tr[data-iri="/books/2"] td[data-column="title"]')
                    ?.textContent === 'Count Zero'"""
            )

            deleted = rest.delete("/books/1")
            assert deleted.status_code == 204
            page.wait_for_selector('tr[data-iri="/books/1"]', state="detached")
            assert page.locator("#resource-Book tbody tr").count() == 1
        finally:
            page.close()


def test_private_reviews_reach_only_the_page_holding_a_subscriber_cookie(
    serve: Callable[..., LiveServer], tmp_path: Path, browser: Browser
) -> None:
    gateway = start_gateway(serve, tmp_path / "private.sqlite")
    reviews_topic = f"{gateway.url}/reviews/{{id}}"
    with_token = browser.new_context()
    with_token.add_cookies(
        [
            {
                "name": "mercureAuthorization",
                "value": token(subscribe=[reviews_topic]),
                "url": gateway.url + "/.well-known/mercure",
            }
        ]
    )
    anonymous = browser.new_context()
    try:
        allowed, refused = with_token.new_page(), anonymous.new_page()
        open_live_page(allowed, gateway)
        open_live_page(refused, gateway)
        with httpx.Client(base_url=gateway.url, timeout=10) as rest:
            book = rest.post("/books", json={"title": "Dune", "author": "F. H."}, headers=JSON_LD)
            review = rest.post(
                "/reviews",
                json={"rating": 5, "body": "Great", "author": "Ann", "book": book.json()["@id"]},
                headers=JSON_LD,
            )
            assert review.status_code == 201
            allowed.wait_for_selector('tr[data-iri="/reviews/1"]')
            assert cell(allowed, "/reviews/1", "body") == "Great"

            # A public update on the same topic family, published after the private one,
            # reaches the anonymous page on the same stream: once it is shown, the private
            # update would have been shown before it had it been delivered.
            marker = rest.post(
                gateway.url + "/.well-known/mercure",
                data={
                    "topic": f"{gateway.url}/reviews/999",
                    "data": '{"@id": "/reviews/999", "body": "public"}',
                },
                headers={"Authorization": f"Bearer {token(publish=['*'])}"},
            )
            assert marker.status_code == 200
            refused.wait_for_selector('tr[data-iri="/reviews/999"]')
            assert refused.locator('tr[data-iri="/reviews/1"]').count() == 0
    finally:
        with_token.close()
        anonymous.close()
