"""Request ids: kept when sane, made up otherwise, in the header, problem bodies and logs."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.request_id import RequestIdFilter, configure_json_logs
from app.settings import Settings
from tests.publish.gateway import AUTH_SETTINGS, HUB_SETTINGS, bookshop


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
        spec=bookshop(),
        hub_settings=HUB_SETTINGS,
        auth_settings=AUTH_SETTINGS,
        environ={},
    )
    with app.app_context():
        app.extensions["model_registry"].db.create_all()
    return app


@pytest.mark.parametrize(
    "sent", ["abc", "0af7651916cd43dd8448eb211c80319c", "req:42/edge-1@lb=7+x", "a" * 128]
)
def test_a_sane_incoming_id_is_kept(app: Flask, sent: str) -> None:
    response = app.test_client().get("/books/999", headers={"X-Request-Id": sent})
    assert response.headers["X-Request-Id"] == sent
    assert response.get_json()["requestId"] == sent


@pytest.mark.parametrize("sent", ["", "a" * 129, "two words", "x\u00e9", "<script>", 'a"b'])
def test_an_insane_incoming_id_is_replaced(app: Flask, sent: str) -> None:
    response = app.test_client().get("/books/999", headers={"X-Request-Id": sent})
    made_up = response.headers["X-Request-Id"]
    assert made_up != sent
    assert len(made_up) == 32
    assert response.get_json()["requestId"] == made_up


def test_every_answer_has_an_id_and_each_its_own(app: Flask) -> None:
    client = app.test_client()
    ids = {client.get(path).headers["X-Request-Id"] for path in ("/books", "/docs.json", "/nope")}
    assert len(ids) == 3


def test_json_lines_carry_the_request_id(app: Flask) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        configure_json_logs(stream)
        configure_json_logs(stream)  # idempotent: one handler

        @app.get("/log-test")
        def log_test() -> str:
            logging.getLogger("app.test").warning("inside %s", "a request")
            return ""

        app.test_client().get("/log-test", headers={"X-Request-Id": "log-test-1"})
        logging.getLogger("app.test").warning("outside")
    finally:
        root.handlers[:], root.level = saved
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(r["message"], r["request_id"], r["level"], r["logger"]) for r in lines] == [
        ("inside a request", "log-test-1", "WARNING", "app.test"),
        ("outside", None, "WARNING", "app.test"),
    ]
    assert all("time" in record for record in lines)


def test_the_filter_adds_none_outside_requests() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    assert RequestIdFilter().filter(record)
    assert record.request_id is None  # type: ignore[attr-defined]


def test_json_logs_cover_what_is_logged_while_the_app_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A flask command (db upgrade, settings) builds the app: with LOG_FORMAT=json, the
    # warnings logged while reading the settings (here the development hub key) are JSON.
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        create_app(
            Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", log_format="json"),
            spec=bookshop(),
            auth_settings=AUTH_SETTINGS,
            environ={},
        )
    finally:
        root.handlers[:], root.level = saved
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any("PUBLIC DEVELOPMENT JWT KEY" in record["message"] for record in lines)
