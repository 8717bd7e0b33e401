"""Headless Chromium (Debian's package) driven by Playwright, for the browser tests.

Never downloads a browser: the executable comes from :func:`tests.services.require_chromium`
(skip, or fail under CI, when it is missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

from tests.services import require_chromium

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


@contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    """A headless Chromium for one test module, started with :data:`CHROMIUM_ARGS` and
    ``extra_args``; closed on exit."""
    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()
