"""Every page works under the gateway's content security policy: Chromium blocks nothing.

Chromium reports each load or execution a policy blocks (script, style, image,
connection, eval) as a ``securitypolicyviolation`` event in the page and as a console
error. Each test records both, and the page's uncaught errors, from before the page's first
script runs, uses the page through its main features, then provokes one violation of its
own: a sentinel image from a host the policy does not allow. Reports reach the page and
the console in the order they happen, so once the sentinel's have arrived, any earlier
violation has too; the sentinel's must then be the only ones.

Pages are opened under a host name (``gateway.test``, which this module's Chromium resolves
to the loopback), not 127.0.0.1: Swagger UI, for one, behaves differently on loopback
addresses (its online validator badge, an image from a third party, only shows elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page

from app.headers import EXTENSION_KEY
from tests.publish.gateway import Gateway
from tests.services import LiveServer
from tests.ui.browser import TIMEOUT_MS, chromium
from tests.ui.gateway import JSON_LD, start_gateway, token, user_token

pytestmark = pytest.mark.browser

HOST = "gateway.test"
SENTINEL = "https://csp-sentinel.invalid/probe.png"
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "(inline)"}` +
    ` in ${event.sourceFile || "(document)"}:${event.lineNumber}`
  );
});
"""
ADMIN = user_token("root", "admin")
BOOK_OPERATION = "#operations-Book-postBook"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(f"--host-resolver-rules=MAP {HOST} 127.0.0.1") as instance:
        yield instance


@pytest.fixture
def gateway(serve: Callable[..., LiveServer], tmp_path: Path) -> Gateway:
    return start_gateway(serve, tmp_path / "csp.sqlite", subscriptions=True, host=HOST)


@dataclass
class Recorder:
    """What a page reported: CSP console errors and uncaught exceptions."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.console.append(message.text)

    def on_error(self, error: Error) -> None:
        self.errors.append(f"{error.name}: {error.message}")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    yield context
    context.close()


def open_page(context: BrowserContext, gateway: Gateway, path: str) -> tuple[Page, Recorder]:
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    recorder = Recorder()
    page.on("console", recorder.on_console)
    page.on("pageerror", recorder.on_error)
    page.goto(gateway.url.replace("127.0.0.1", HOST) + path)
    return page, recorder


def blocked(page: Page, recorder: Recorder) -> tuple[list[str], list[str], list[str]]:
    """Everything the policy blocked on ``page`` so far (events, console errors), and
    the page's uncaught errors, once the sentinel's reports have arrived."""
    with page.expect_console_message(lambda message: SENTINEL in message.text):
        page.evaluate("(url) => { new Image().src = url; }", SENTINEL)
    page.wait_for_function(
        "(url) => window.cspViolations.some((line) => line.includes(url))", arg=SENTINEL
    )
    events: list[str] = page.evaluate("window.cspViolations")
    return (
        [line for line in events if SENTINEL not in line],
        [text for text in recorder.console if SENTINEL not in text],
        recorder.errors,
    )


def test_swagger_ui_authorizes_and_tries_an_operation_without_a_violation(
    gateway: Gateway, context: BrowserContext
) -> None:
    page, recorder = open_page(context, gateway, "/docs")
    page.wait_for_selector(BOOK_OPERATION)
    page.click("button.btn.authorize")
    dialog = page.locator(".modal-ux")
    dialog.locator("input").fill(ADMIN)
    dialog.locator("button.btn.modal-btn.auth.authorize").click()
    dialog.locator("button.btn-done").click()

    operation = page.locator(BOOK_OPERATION)
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("textarea.body-param__text").fill('{"title": "Dune", "author": "F. H."}')
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status")
    status.wait_for()
    assert status.inner_text().strip() == "201"
    page.locator("section.models .model-container .model-box-control").first.click()
    page.wait_for_selector("section.models .model-container .model-box .inner-object")

    assert blocked(page, recorder) == ([], [], [])


def test_the_live_page_signs_in_and_follows_a_change_without_a_violation(
    gateway: Gateway, context: BrowserContext
) -> None:
    page, recorder = open_page(context, gateway, "/")
    page.wait_for_selector('#resource-Book .status[data-state="live"]')
    page.fill("#bearer-token", ADMIN)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector('body[data-user="root"]')
    page.wait_for_selector('#resource-Review .status[data-state="live"]')

    response = httpx.post(
        gateway.url + "/books",
        json={"title": "Dune", "author": "F. H."},
        headers={**JSON_LD, "Authorization": f"Bearer {ADMIN}"},
    )
    assert response.status_code == 201
    page.wait_for_selector('tr[data-iri="/books/1"]')
    page.click("#sign-out")
    page.wait_for_selector("#sign-in", state="visible")

    assert blocked(page, recorder) == ([], [], [])


def test_the_debug_ui_subscribes_publishes_and_lists_without_a_violation(
    gateway: Gateway, context: BrowserContext
) -> None:
    page, recorder = open_page(context, gateway, "/.well-known/mercure/ui/")
    page.fill("#jwt", token(publish=["*"], subscribe=["*"]))
    page.click("#save-token")
    page.fill("#sub-topics", "https://example.com/books/{id}")
    page.click("#sub-start")
    page.wait_for_function(
        "() => document.getElementById('sub-status').textContent.startsWith('Subscribed')"
    )
    page.fill("#pub-topics", "https://example.com/books/7")
    page.click("#pub-send")
    page.wait_for_selector(".update")
    page.click("#subs-load")
    page.wait_for_function(
        "() => document.getElementById('subs-status').textContent.includes('active')"
    )

    assert blocked(page, recorder) == ([], [], [])


def test_the_recorder_sees_what_a_narrower_policy_breaks(
    gateway: Gateway, context: BrowserContext
) -> None:
    """The reference hub's bare ``default-src 'self'`` blocks Swagger UI's ``data:`` icons
    and the pages' ``data:,`` favicon: the recorder reports each of them."""
    gateway.app.extensions[EXTENSION_KEY]["Content-Security-Policy"] = "default-src 'self'"
    for path in ("/docs", "/", "/.well-known/mercure/ui/"):
        page, recorder = open_page(context, gateway, path)
        page.wait_for_load_state("load")
        events, console, errors = blocked(page, recorder)
        assert events, path
        assert all(line.startswith("img-src blocked data") for line in events), events
        assert len(console) == len(events), console
        assert errors == []
