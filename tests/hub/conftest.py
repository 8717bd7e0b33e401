"""Fixtures for the hub tests: a minimal Flask app carrying only the hub, served for real.

The app is built with nothing but :func:`app.hub.init_app`, so these tests do not depend
on the rest of the gateway. Tokens are minted with the same test key the settings use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from flask import Flask

from app import hub as hub_package
from app.hub import Hub
from app.hub.command import mint_token
from app.hub.settings import HubSettings
from tests.services import LiveServer

TEST_KEY = "test-only-hub-key-of-at-least-64-bytes-for-every-hmac-algorithm!!"
TEST_SETTINGS = HubSettings(
    publisher_key=TEST_KEY,
    subscriber_key=TEST_KEY,
    heartbeat=0.0,
    write_timeout=0.0,
    dispatch_timeout=5.0,
    history_size=100,
    development_key=False,
)


def token(
    *,
    publish: tuple[str, ...] | None = None,
    subscribe: tuple[str, ...] | None = None,
    payload: Any = None,
    expires_in: float | None = None,
    key: str = TEST_KEY,
    algorithm: str = "HS256",
) -> str:
    """A token signed with the test key."""
    return mint_token(
        key,
        algorithm,
        publish=publish,
        subscribe=subscribe,
        payload=payload,
        expires_in=expires_in,
    )


PUBLISHER = token(publish=("*",))


def build_app(settings: HubSettings = TEST_SETTINGS) -> tuple[Flask, Hub]:
    """A Flask app with only the hub mounted."""
    app = Flask("hub_test")
    hub = hub_package.init_app(app, settings)
    return app, hub


@pytest.fixture
def hub_app() -> Iterator[Callable[..., tuple[Flask, Hub]]]:
    """``hub_app(**overrides)`` builds an app whose settings are TEST_SETTINGS + overrides."""
    hubs: list[Hub] = []

    def make(**overrides: Any) -> tuple[Flask, Hub]:
        app, hub = build_app(replace(TEST_SETTINGS, **overrides))
        hubs.append(hub)
        return app, hub

    yield make
    for hub in hubs:
        hub.close()


@pytest.fixture
def live_hub(
    hub_app: Callable[..., tuple[Flask, Hub]], serve: Callable[..., LiveServer]
) -> Callable[..., tuple[str, Hub]]:
    """``live_hub(**overrides)`` serves a hub app on loopback; returns (hub URL, hub)."""

    def start(**overrides: Any) -> tuple[str, Hub]:
        app, hub = hub_app(**overrides)
        live = serve(app)
        return f"{live.url}/.well-known/mercure", hub

    return start


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    """An HTTP client whose reads give up after a few seconds, so no test can hang.

    Shared by the session: building one loads the TLS trust store, which is slow.
    """
    with httpx.Client(timeout=httpx.Timeout(5.0)) as http:
        yield http
