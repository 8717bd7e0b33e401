"""Access to the external services tests use, with one skip-or-fail rule.

PostgreSQL and Redis URLs come from ``POSTGRES_URL`` and ``REDIS_URL`` (defaults: the
servers on this machine's loopback). When a service cannot be reached the test is skipped
with the reason, except when ``CI`` is set: then it fails, so CI always exercises it.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from app.hub.command import mint_token

POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds
    (a deadline for something that must happen, never a timed assertion)."""
    with gevent.Timeout(timeout, False):
        while not condition():
            gevent.sleep(0.05)
        return
    raise AssertionError(f"{what} did not happen within {timeout} s")


def hs256_token(
    key: str, *, publish: Sequence[str] | None = None, subscribe: Sequence[str] | None = None
) -> str:
    """A JWT signed with ``key`` (HS256) carrying the given ``mercure`` selectors."""
    return mint_token(
        key,
        "HS256",
        publish=None if publish is None else tuple(publish),
        subscribe=None if subscribe is None else tuple(subscribe),
    )


def unavailable(what: str, how_to_fix: str) -> None:
    """Skip the running test because ``what`` is missing, or fail under CI."""
    message = f"{what} is not available: {how_to_fix}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this test may not be skipped)")
    pytest.skip(message)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def require_postgres() -> str:
    """Return the PostgreSQL SQLAlchemy URL, or skip/fail when the server is down."""
    if not _reachable(POSTGRES_URL, 5432):
        unavailable(f"PostgreSQL at {POSTGRES_URL}", "start it or set POSTGRES_URL")
    return POSTGRES_URL


def require_redis() -> str:
    """Return the Redis URL, or skip/fail when the server is down."""
    if not _reachable(REDIS_URL, 6379):
        unavailable(f"Redis at {REDIS_URL}", "start it or set REDIS_URL")
    return REDIS_URL


def require_chromium() -> str:
    """Return the Chromium executable path, or skip/fail when it is not installed."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        unavailable("Chromium", "install Debian's 'chromium' package or set CHROMIUM_PATH")
    assert path is not None
    return path


@dataclass
class LiveServer:
    """A running gevent WSGI server on loopback."""

    server: WSGIServer

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
