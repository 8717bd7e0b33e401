"""The hub's debug UI in headless Chromium: subscribe, publish, tokens, subscriptions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from app.hub.command import mint_access_token
from app.hub.matchers import Matcher
from app.hub.settings import DEFAULT_RESOURCE
from tests.services import LiveServer
from tests.ui.browser import TIMEOUT_MS
from tests.ui.gateway import JWT_KEY, Gateway, start_gateway, token

pytestmark = pytest.mark.browser

UI = "/.well-known/mercure/ui/"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def save_token(page: Page, jwt: str, mode: str) -> None:
    page.fill("#jwt", jwt)
    page.check(f'input[name="auth"][value="{mode}"]')
    page.click("#save-token")


def subscribe(page: Page, selectors: str, last_event_id: str = "") -> None:
    page.fill("#sub-topics", selectors)
    page.fill("#sub-last-event-id", last_event_id)
    page.click("#sub-start")
    page.wait_for_function(
        "() => document.getElementById('sub-status').textContent.startsWith('Subscribed')"
    )


def publish_over_http(gateway: Gateway, topic: str, data: str, event_id: str) -> None:
    response = httpx.post(
        gateway.url + "/.well-known/mercure",
        data={"topic": topic, "data": data, "id": event_id},
        headers={"Authorization": f"Bearer {token(publish=['*'])}"},
    )
    assert response.status_code == 200


def test_publishes_every_field_and_receives_it_through_a_template_selector(
    serve: Callable[..., LiveServer], tmp_path: Path, page: Page
) -> None:
    gateway = start_gateway(serve, tmp_path / "ui.sqlite")
    page.goto(gateway.url + UI)
    save_token(page, token(publish=["*"], subscribe=["https://example.com/books/{id}"]), "cookie")
    assert "cookie is set" in page.inner_text("#token-status")
    subscribe(page, "https://example.com/books/{id}")

    page.fill("#pub-topics", "https://example.com/books/7\nhttps://example.com/alternate")
    page.fill("#pub-data", "line one\nline two")
    page.fill("#pub-id", "urn:example:7")
    page.fill("#pub-type", "BookChanged")
    page.fill("#pub-retry", "2500")
    page.check("#pub-private")
    page.click("#pub-send")

    page.wait_for_selector(".update")
    assert page.inner_text("#pub-status") == "Published: urn:example:7"
    assert page.inner_text(".update .type") == "BookChanged"
    assert page.inner_text(".update .id") == "urn:example:7"
    assert page.inner_text(".update .retry") == "2500"
    assert page.inner_text(".update .data") == "line one\nline two"


def test_replays_after_a_last_event_id_with_the_query_parameter_token(
    serve: Callable[..., LiveServer], tmp_path: Path, page: Page
) -> None:
    gateway = start_gateway(serve, tmp_path / "ui.sqlite")
    publish_over_http(gateway, "https://example.com/a", "first", "id-1")
    publish_over_http(gateway, "https://example.com/a", "second", "id-2")
    page.goto(gateway.url + UI)
    save_token(page, token(subscribe=["*"]), "query")
    assert "query parameter" in page.inner_text("#token-status")

    subscribe(page, "https://example.com/a", last_event_id="id-1")

    page.wait_for_selector(".update")
    assert "Last-Event-ID: id-1" in page.inner_text("#sub-status")
    assert page.locator(".update").count() == 1
    assert page.inner_text(".update .data") == "second"


def test_an_anonymous_publish_is_refused_with_the_hub_status(
    serve: Callable[..., LiveServer], tmp_path: Path, page: Page
) -> None:
    gateway = start_gateway(serve, tmp_path / "ui.sqlite")
    page.goto(gateway.url + UI)
    page.click("#pub-send")
    page.wait_for_function(
        "() => document.getElementById('pub-status').textContent.startsWith('Refused')"
    )
    assert page.inner_text("#pub-status").startswith("Refused: 401")


def test_lists_active_subscriptions_when_the_hub_has_them(
    serve: Callable[..., LiveServer], tmp_path: Path, page: Page
) -> None:
    gateway = start_gateway(serve, tmp_path / "ui.sqlite", subscriptions=True)
    page.goto(gateway.url + UI)
    save_token(page, token(subscribe=["*"]), "cookie")
    subscribe(page, "https://example.com/watched/{id}")

    page.click("#subs-load")
    page.wait_for_function(
        "() => document.getElementById('subs-status').textContent.includes('active')"
    )
    topics = page.locator("#subs-table tbody td:first-child").all_inner_texts()
    assert "https://example.com/watched/{id}" in topics


DEBUG = "/.well-known/mercure/debug/"


def access_token(**grants: list[Matcher]) -> str:
    """A 1.0 access token of the gateway hub's own issuer (its resource identifier)."""
    return mint_access_token(
        JWT_KEY, "HS256", issuer=DEFAULT_RESOURCE, audience=DEFAULT_RESOURCE, **grants
    )


def test_the_debugger_at_debug_speaks_1_0(
    serve: Callable[..., LiveServer], tmp_path: Path, page: Page
) -> None:
    gateway = start_gateway(serve, tmp_path / "ui.sqlite", subscriptions=True)
    page.goto(gateway.url + DEBUG)
    assert page.is_checked('input[name="protocol"][value="1.0"]')
    assert page.inner_text("#cookie-label") == "__Secure-mercure_access_token"
    everything = [Matcher("exact", "*")]
    save_token(page, access_token(publish=everything, subscribe=everything), "header")
    subscribe(page, "https://example.com/books/:id", last_event_id="earliest")
    assert "Mercure-Last-Event-ID: earliest" in page.inner_text("#sub-status")

    page.fill("#pub-topics", "https://example.com/books/7")
    page.fill("#pub-data", "private news")
    page.check("#pub-private")
    page.click("#pub-send")
    page.wait_for_selector(".update")
    assert page.inner_text(".update .data") == "private news"

    page.fill("#pub-type", "mercure")
    page.click("#pub-send")
    page.wait_for_function(
        "() => document.getElementById('pub-status').textContent.startsWith('Refused: 400')"
    )

    page.click("#subs-load")
    page.wait_for_function(
        "() => document.getElementById('subs-status').textContent.includes('active')"
    )
    listed = page.locator("#subs-table tbody td:first-child").all_inner_texts()
    assert "urlpattern https://example.com/books/:id" in listed


def test_the_debugger_switches_to_0_x_on_the_same_page(
    serve: Callable[..., LiveServer], tmp_path: Path, page: Page
) -> None:
    gateway = start_gateway(serve, tmp_path / "ui.sqlite")
    page.goto(gateway.url + DEBUG)
    page.check('input[name="protocol"][value="0.x"]')
    assert page.input_value("#sub-topics") == "https://example.com/books/{id}"
    save_token(page, token(publish=["*"], subscribe=["*"]), "cookie")
    assert "mercureAuthorization cookie is set" in page.inner_text("#token-status")
    subscribe(page, "https://example.com/books/{id}")
    page.fill("#pub-topics", "https://example.com/books/8")
    page.fill("#pub-data", "from 0.x")
    page.click("#pub-send")
    page.wait_for_selector(".update")
    assert page.inner_text(".update .data") == "from 0.x"
