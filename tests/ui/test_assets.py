"""The debug UI page and its packaged assets, mounted by the hub when ``MERCURE_UI`` is on."""

from __future__ import annotations

import pytest
from flask import Flask

from app import hub
from app.hub.settings import HubSettings

UI = "/.well-known/mercure/ui/"


def hub_app(settings: HubSettings) -> Flask:
    app = Flask(__name__)
    hub.init_app(app, settings)
    return app


def test_the_page_names_the_hub_and_its_cookie() -> None:
    client = hub_app(HubSettings(ui=True, cookie_name="hubToken")).test_client()
    page = client.get(UI)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert 'data-hub="/.well-known/mercure"' in page.text
    assert 'data-cookie-name="hubToken"' in page.text
    assert "MERCURE_SUBSCRIPTIONS=1" in page.text


def test_the_subscriptions_panel_appears_when_the_hub_has_them() -> None:
    page = hub_app(HubSettings(ui=True, subscriptions=True)).test_client().get(UI)
    assert 'id="subs-load"' in page.text
    assert "MERCURE_SUBSCRIPTIONS=1" not in page.text


@pytest.mark.parametrize(
    ("asset", "marker"),
    [("sse.js", "openEventStream"), ("ui.js", "Last-Event-ID"), ("ui.css", ".updates")],
)
def test_assets_are_served_from_the_package(asset: str, marker: str) -> None:
    client = hub_app(HubSettings(ui=True)).test_client()
    with client.get(f"{UI}static/{asset}") as response:
        assert response.status_code == 200
        assert marker in response.text


def test_the_ui_is_absent_when_switched_off() -> None:
    client = hub_app(HubSettings(ui=False)).test_client()
    assert client.get(UI).status_code == 404
