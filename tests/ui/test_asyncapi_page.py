"""The AsyncAPI page ``/docs/asyncapi`` in headless Chromium: the document rendered offline.

The page loads only the gateway's own files (the vendored renderer) under the gateway's
content security policy, and shows every channel and message of the document, which it
fetched from ``/docs.asyncapi.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.services import LiveServer
from tests.ui.browser import TIMEOUT_MS
from tests.ui.gateway import Gateway, start_gateway

pytestmark = pytest.mark.browser


@pytest.fixture
def gateway(serve: Callable[..., LiveServer], tmp_path: Path) -> Gateway:
    return start_gateway(serve, tmp_path / "asyncapi.sqlite")


def test_the_page_renders_the_document_offline(browser: Browser, gateway: Gateway) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    try:
        page.goto(gateway.url + "/docs/asyncapi")
        document = page.request.get(gateway.url + "/docs.asyncapi.json").json()
        try:
            page.wait_for_selector("#asyncapi .aui-root")
        except Exception as error:
            raise AssertionError(f"the page rendered nothing: {problems}") from error
        page.wait_for_function(
            "title => document.getElementById('asyncapi').innerText.includes(title)",
            arg=document["info"]["title"],
        )
        text = page.inner_text("#asyncapi")
        for channel in document["channels"].values():
            assert channel["address"] in text
        for message in document["components"]["messages"].values():
            assert message["title"] in text
        assert "mercure" in text.lower()
        assert page.locator("a[href='/docs']").count() == 1
    finally:
        context.close()
    assert not problems, problems
    foreign = [url for url in requested if not url.startswith(gateway.url)]
    assert not foreign, f"the page loaded files from elsewhere: {foreign}"
