"""The Hub object and ``init_app``: wiring, publishing from code, settings errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from app.hub import EXTENSION_KEY, Hub, init_app
from app.hub.settings import HubSettingsError
from app.hub.subscriber import Subscriber
from app.hub.transport import TransportClosedError
from app.hub.transport.memory import MemoryTransport
from app.hub.update import Update
from tests.hub.conftest import TEST_SETTINGS

BOOK = "https://example.com/books/1"


def test_init_app_mounts_the_hub() -> None:
    app = Flask("t")
    hub = init_app(app, TEST_SETTINGS)
    assert app.extensions[EXTENSION_KEY] is hub
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/.well-known/mercure" in rules
    assert not any(rule.startswith("/.well-known/mercure/subscriptions") for rule in rules)
    hub.close()


def test_init_app_mounts_the_subscriptions_api_when_enabled() -> None:
    app = Flask("t")
    hub = init_app(app, replace(TEST_SETTINGS, subscriptions=True))
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/.well-known/mercure/subscriptions" in rules
    hub.close()


def test_publish_from_code_returns_the_id_and_delivers() -> None:
    transport = MemoryTransport(history_size=10)
    hub = Hub(TEST_SETTINGS, transport)
    subscriber = Subscriber([BOOK])
    assert hub.connect(subscriber) is None
    assert hub.publish(Update((BOOK,), data="x", id="given")) == "given"
    generated = hub.publish(Update((BOOK,), data="y"))
    assert generated.startswith("urn:uuid:")
    assert subscriber.drain().count(b"id: ") == 2
    hub.disconnect(subscriber)
    assert transport.subscribers()[1] == []


def test_publish_after_close_raises_a_transport_error() -> None:
    hub = Hub(TEST_SETTINGS)
    hub.close()
    with pytest.raises(TransportClosedError):
        hub.publish(Update((BOOK,)))


def test_default_transport_follows_the_settings() -> None:
    hub = Hub(replace(TEST_SETTINGS, history_size=3))
    assert isinstance(hub.transport, MemoryTransport)
    assert hub.transport.history_size == 3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"publisher_algorithm": "RS256"}, "publisher JWT key is unusable with RS256"),
        ({"subscriber_algorithm": "ES256"}, "subscriber JWT key is unusable with ES256"),
        ({"transport_url": "kafka://x"}, "MERCURE_TRANSPORT_URL"),
    ],
)
def test_unusable_settings_fail_at_start(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(HubSettingsError, match=message):
        Hub(replace(TEST_SETTINGS, **overrides))
