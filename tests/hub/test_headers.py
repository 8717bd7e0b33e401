"""The hub's security headers when it is mounted alone (the gateway's are tested in
``tests/test_headers.py``)."""

from __future__ import annotations

import pytest
from flask import Flask, Response

from app import hub
from app.hub.headers import add_security_headers, security_headers
from app.hub.settings import HubSettings

REFERENCE_NAMES = {"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"}


def test_the_reference_hubs_headers_are_all_there() -> None:
    headers = security_headers()
    assert set(headers) >= REFERENCE_NAMES
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"].startswith("default-src 'self'; ")


def test_the_hook_adds_what_is_missing_and_keeps_what_is_set() -> None:
    response = add_security_headers(Response(headers={"X-Frame-Options": "SAMEORIGIN"}))
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    for name, value in security_headers().items():
        if name != "X-Frame-Options":
            assert response.headers.getlist(name) == [value]


@pytest.mark.parametrize(
    "path", ["/.well-known/mercure/ui/", "/.well-known/mercure/ui/static/ui.js"]
)
def test_the_debug_ui_of_a_hub_mounted_alone_carries_them(path: str) -> None:
    app = Flask(__name__)
    hub.init_app(app, HubSettings(ui=True))
    with app.test_client().get(path) as response:
        assert response.status_code == 200
        for name, value in security_headers().items():
            assert response.headers.getlist(name) == [value], name


@pytest.mark.parametrize(("method", "status"), [("GET", 400), ("POST", 401)])
def test_the_endpoints_of_a_hub_mounted_alone_carry_them(method: str, status: int) -> None:
    app = Flask(__name__)
    hub.init_app(app, HubSettings())
    with app.test_client().open("/.well-known/mercure", method=method) as response:
        assert response.status_code == status
        for name, value in security_headers().items():
            assert response.headers.getlist(name) == [value]
