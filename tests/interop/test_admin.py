"""API Platform Admin, built from npm, runs on the shipped bookshop in Chromium, through the
HTTP/2 front (``make https``: gunicorn behind ``deploy/Caddyfile``).

The Admin page is served from its own HTTPS origin (the built files, on another loopback
port), so every API call and every ``EventSource`` is cross-origin and goes over TLS: a
remote ``http://`` context would be blocked as mixed content, and only
``CORS_ALLOWED_ORIGINS`` is set, for the API and the hub alike. Twelve books are listed,
each with its own ``EventSource``: over HTTP/1.1 the browser's six connections per origin
would be used up and later rows would never be updated.
"""

from __future__ import annotations

import os
import shutil
import ssl
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from gevent.pywsgi import WSGIServer
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Request, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from werkzeug.exceptions import NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware

from app.auth.command import mint_user_token
from tests.deploy.gateway import USER_KEY, gateway_env, sqlite_database
from tests.deploy.servers import Process, accepts, caddy_root, running
from tests.deploy.test_nginx import self_signed
from tests.interop.admin_bundle import admin_bundle
from tests.services import free_port, unavailable
from tests.ui.browser import TIMEOUT_MS, chromium

pytestmark = pytest.mark.browser

ROWS = 12
ATTEMPT_MS = 2_000
"""How long one attempt to submit a form may take before it is made again."""


@dataclass
class Front:
    """The gateway behind Caddy: its public origin and a client trusting Caddy's CA."""

    url: str
    root: Path

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            verify=ssl.create_default_context(cafile=str(self.root)),
            timeout=10,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/ld+json"},
        )


def admin_token() -> str:
    """An administrator's bearer token: the catalogue is theirs to change."""
    return mint_user_token(USER_KEY, "HS256", "root", ("admin",), expires_in=3600)


@pytest.fixture(scope="module")
def bundle() -> Path:
    return admin_bundle()


@pytest.fixture
def front(tmp_path: Path, admin_origin: str) -> Iterator[Front]:
    """``make https`` on free ports: it migrates the bookshop's SQLite database, starts
    gunicorn and Caddy; the gateway's origin is Caddy's, and the Admin's may call it."""
    if shutil.which("make") is None:
        unavailable("make", "install Debian's 'make' package")
    if shutil.which("caddy") is None:
        unavailable("caddy", "install Debian's 'caddy' package")
    https_port, http_port, port = free_port(), free_port(), free_port()
    public = f"https://localhost:{https_port}"
    env = gateway_env(
        sqlite_database(tmp_path),
        "memory://",
        PUBLIC_URL=public,
        CORS_ALLOWED_ORIGINS=admin_origin,
    )
    home = tmp_path / "caddy-home"
    environment = {
        **os.environ,
        **env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "CADDY_SITE": f"localhost:{https_port}",
        "CADDY_HTTP_PORT": str(http_port),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    # `-o install`: the virtualenv running these tests is the one to use, as it is.
    argv = ["make", "--no-print-directory", "-o", "install", f"VENV={sys.prefix}", "https"]
    process = Process("make https", argv, https_port, tmp_path / "make-https.log", environment)
    with running(process):
        deadline = time.monotonic() + 30
        while not accepts(port):
            assert time.monotonic() < deadline, process.log()
            time.sleep(0.05)
        yield Front(public, caddy_root(tmp_path))


class _TLSFiles(WSGIServer):  # type: ignore[misc]
    """A WSGI server over TLS that drops, quietly, a client refusing its certificate
    (Chromium tries once before it accepts the test's throw-away one)."""

    def wrap_socket_and_handle(self, client_socket: Any, address: Any) -> Any:
        try:
            return super().wrap_socket_and_handle(client_socket, address)
        except ssl.SSLError:
            client_socket.close()
            return None


@pytest.fixture
def admin_origin(tmp_path: Path, bundle: Path) -> Iterator[str]:
    """The built Admin page on its own HTTPS origin (a throw-away certificate)."""
    directory = tmp_path / "admin-tls"
    directory.mkdir()
    cert, key = self_signed(directory)
    files = SharedDataMiddleware(NotFound(), {"/": str(bundle)})
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = _TLSFiles(("127.0.0.1", 0), files, log=None, ssl_context=tls)
    server.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.stop(timeout=1)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser context accepting the test certificates (Caddy's local authority, the
    Admin's throw-away one), which no system trust store knows."""
    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as instance:
        yield instance


def open_admin(
    context: BrowserContext,
    admin_origin: str,
    front: Front,
    token: str,
    route: str,
    protocols: dict[str, str] | None = None,
) -> Page:
    """The Admin at ``route``, as the user of ``token``; ``protocols`` (when given) maps the
    URL of every response from the API to the protocol it came over (``h2``)."""
    page = context.new_page()
    if protocols is not None:
        devtools = context.new_cdp_session(page)
        devtools.send("Network.enable")

        def received(event: dict[str, Any]) -> None:
            response = event["response"]
            if response["url"].startswith(front.url):
                protocols[response["url"]] = response.get("protocol", "")

        devtools.on("Network.responseReceived", received)
    query = urlencode({"entrypoint": front.url, "token": token})
    page.goto(f"{admin_origin}/index.html?{query}#{route}")
    return page


STREAMS = """
window.__openStreams = 0;
const NativeEventSource = window.EventSource;
window.EventSource = class extends NativeEventSource {
  constructor(...args) {
    super(...args);
    this.addEventListener("open", () => { window.__openStreams += 1; }, { once: true });
  }
};
"""
"""Counts the page's ``EventSource`` streams that have opened (the hub answers at once)."""


def field(input_: Locator) -> Locator:
    """The form field (label, input, helper text) around ``input_``."""
    return input_.locator("xpath=ancestor::div[contains(@class, 'MuiFormControl-root')][1]")


def fill_and_save(page: Page, api: str, values: dict[str, str]) -> None:
    """Fill the form's fields (by label) and submit it to the API at ``api``.

    The form may still be rebuilt just after it appears (its record arriving again),
    which resets it and disables Save: then it is filled anew, until a write request
    leaves for the API."""
    save = page.get_by_role("button", name="Save")
    deadline = time.monotonic() + TIMEOUT_MS / 1000

    def is_write(request: Request) -> bool:
        return request.method in ("POST", "PUT", "PATCH") and request.url.startswith(api)

    while True:
        for label, value in values.items():
            page.get_by_role("textbox", name=label).fill(value)
        try:
            with page.expect_request(is_write, timeout=ATTEMPT_MS):
                save.click(timeout=ATTEMPT_MS)
        except PlaywrightTimeoutError:
            assert time.monotonic() < deadline, f"the form did not submit {list(values)}"
            continue
        settle(page)
        return


def settle(page: Page) -> None:
    """Wait until the notification a write shows has gone. The mouse leaves the page first:
    a notification under the pointer stays (and covers the form's buttons)."""
    page.mouse.move(0, 0)
    expect(page.locator(".MuiSnackbar-root")).to_have_count(0, timeout=TIMEOUT_MS)


def post(client: httpx.Client, route: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(route, json=body)
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


def eventually(check: Any, what: str) -> Any:
    """``check()``'s first truthy value, polled until a deadline (never a timed assertion)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {TIMEOUT_MS} ms")


def test_the_admin_lists_shows_creates_edits_and_deletes_books_live(
    front: Front, context: BrowserContext, admin_origin: str
) -> None:
    token = admin_token()
    api = front.client(token)
    books = [post(api, "/books", {"title": f"Book {n}", "author": "A"}) for n in range(1, 13)]
    context.add_init_script(STREAMS)
    protocols: dict[str, str] = {}
    page = open_admin(context, admin_origin, front, token, "/books?perPage=25", protocols)

    # List: twelve rows, each followed live by its own EventSource, all of them open at
    # once: the API's calls and streams share one HTTP/2 connection.
    rows = page.locator(".RaDatagrid-tbody .RaDatagrid-row")
    expect(rows).to_have_count(ROWS)
    page.wait_for_function(f"window.__openStreams >= {ROWS}")
    assert f"{front.url}/docs.jsonld" in protocols
    assert any("/.well-known/mercure?" in url for url in protocols)
    assert set(protocols.values()) == {"h2"}, protocols

    # A live update of the last listed row, made by someone else through the API.
    last = books[-1]["@id"]
    changed = api.patch(
        last,
        json={"title": "Book 12, revised"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert changed.status_code == 200, changed.text
    expect(rows.nth(ROWS - 1)).to_contain_text("Book 12, revised")

    # Show.
    rows.nth(2).get_by_role("link", name="Show").click()
    expect(page.locator(".RaShow-main")).to_contain_text("Book 3")
    page.go_back()

    # Edit: the Admin sends the whole record back with its `originId`, which is ignored.
    rows.nth(1).get_by_role("link", name="Edit").click()
    title = page.get_by_role("textbox", name="Title")
    expect(title).to_have_value("Book 2")
    # A violation the server finds is shown under its field.
    fill_and_save(page, front.url, {"Title": "x" * 256})
    helper = field(title).locator(".MuiFormHelperText-root")
    expect(helper).to_have_text("This value is too long. It should have 255 characters or less.")
    fill_and_save(page, front.url, {"Title": "Book 2, second edition"})
    eventually(
        lambda: api.get(books[1]["@id"]).json()["title"] == "Book 2, second edition",
        "the edit",
    )
    expect(rows.nth(1)).to_contain_text("Book 2, second edition")

    # Create.
    page.get_by_role("link", name="Create").click()
    fill_and_save(page, front.url, {"Title": "Book 13", "Author": "B"})
    created = eventually(
        lambda: [b for b in api.get("/books").json()["member"] if b["title"] == "Book 13"],
        "the creation",
    )
    assert created[0]["author"] == "B"

    # Delete.
    page.goto(page.url.split("#")[0] + "#/books/" + quote(books[0]["@id"], safe=""))
    expect(page.get_by_role("textbox", name="Title")).to_have_value("Book 1")
    settle(page)
    is_delete = lambda request: request.method == "DELETE"  # noqa: E731
    with page.expect_request(is_delete):
        page.get_by_role("button", name="Delete").click()
        # The edit view deletes once confirmed (its mutations are pessimistic).
        page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    eventually(lambda: api.get(books[0]["@id"]).status_code == 404, "the deletion")
    api.close()


def test_the_admin_labels_reviews_books_by_their_title(
    front: Front, context: BrowserContext, admin_origin: str
) -> None:
    token = admin_token()
    with front.client(token) as api:
        dune = post(api, "/books", {"title": "Dune", "author": "Frank Herbert"})
        emma = post(api, "/books", {"title": "Emma", "author": "Jane Austen"})
        for book, body in ((dune, "Sand everywhere."), (emma, "Matchmaking.")):
            post(api, "/reviews", {"rating": 4, "body": body, "book": book["@id"]})
    page = open_admin(context, admin_origin, front, token, "/reviews")
    rows = page.locator(".RaDatagrid-tbody .RaDatagrid-row")
    expect(rows).to_have_count(2)
    table = page.locator(".RaDatagrid-table")
    expect(table).to_contain_text("Dune")
    expect(table).to_contain_text("Emma")
    assert "/books/" not in table.inner_text()
