"""Metrics in one process: what the hub and the REST API count, the outbox gauges, and who
may read ``/metrics``.

The multiprocess sums, the private listener and the token through gunicorn are proved in
``tests/deploy/test_observability.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app, hub
from app.hub.metrics import NO_METRICS
from app.hub.update import Update
from app.metrics import EXTENSION_KEY, GatewayMetrics, MetricsSettings, MetricsSettingsError
from app.settings import Settings
from tests.hub.conftest import TEST_SETTINGS
from tests.hub.test_stream import BOOK, _stalled_reader_is_dropped
from tests.publish.gateway import ADMIN, AUTH_SETTINGS, HUB_SETTINGS, JSON_LD, bookshop
from tests.services import LiveServer

TOKEN = "a-scraper-token-for-tests"


def sample(metrics: GatewayMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_the_hub_counts_subscribers_updates_and_dropped_slow_subscribers(
    serve: Callable[..., LiveServer],
) -> None:
    metrics = GatewayMetrics()
    app = Flask("metrics_hub")
    the_hub = hub.init_app(
        app, replace(TEST_SETTINGS, queue_size=5, dispatch_timeout=60.0), metrics=metrics
    )
    try:
        url = serve(app).url + "/.well-known/mercure"
        the_hub.publish(Update((BOOK,), data="before anyone listens"))
        assert sample(metrics, "mercure_updates_total") == 1
        assert _stalled_reader_is_dropped(url, the_hub)
        assert sample(metrics, "mercure_subscribers_total") == 1
        assert sample(metrics, "mercure_subscribers_connected") == 0
        assert sample(metrics, "gateway_subscribers_dropped_total") == 1
        assert sample(metrics, "mercure_updates_total") == 401
    finally:
        the_hub.close()


def gateway(tmp_path: Path, environ: dict[str, str], *, production: bool = False) -> Flask:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        environment="production" if production else "development",
        public_url="https://shop.example" if production else None,
    )
    app = create_app(
        settings,
        spec=bookshop(),
        hub_settings=HUB_SETTINGS,
        auth_settings=AUTH_SETTINGS,
        environ=environ,
    )
    with app.app_context():
        app.extensions["model_registry"].db.create_all()
    return app


def test_rest_requests_are_counted_by_resource_operation_and_status(tmp_path: Path) -> None:
    app = gateway(tmp_path, {})
    metrics: GatewayMetrics = app.extensions[EXTENSION_KEY]
    client = app.test_client()
    created = client.post(
        "/books", json={"title": "T", "author": "A"}, headers={**JSON_LD, **ADMIN}
    )
    assert created.status_code == 201
    assert client.get("/books/999").status_code == 404
    assert client.get("/books").status_code == 200
    assert client.get("/docs.json").status_code == 200  # not a resource operation
    counted = {
        (s.labels["resource"], s.labels["operation"], s.labels["status"]): s.value
        for family in metrics.registry.collect()
        if family.name == "gateway_http_requests"
        for s in family.samples
        if s.name.endswith("_total")
    }
    assert counted == {
        ("Book", "post", "201"): 1,
        ("Book", "get", "404"): 1,
        ("Book", "get_collection", "200"): 1,
    }
    assert (
        sample(
            metrics,
            "gateway_http_request_duration_seconds_count",
            resource="Book",
            operation="post",
        )
        == 1
    )


def test_the_outbox_gauges_are_read_at_scrape_time(tmp_path: Path) -> None:
    app = gateway(tmp_path, {})
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    now = time.time()
    with engine.begin() as connection:
        # A hub no relay serves keeps its rows pending; a refused row stays for inspection.
        for key, hub_name, status, created in [
            ("a" * 32, "archive", "pending", now - 120),
            ("b" * 32, "archive", "pending", now - 5),
            ("c" * 32, "default", "rejected", now - 60),
        ]:
            connection.execute(
                sa.text(
                    "INSERT INTO mercure_outbox (key, hub, update_id, topics, data, private,"
                    " status, attempts, created_at) VALUES (:key, :hub, 'urn:x', '[]', '',"
                    " 0, :status, 0, :created)"
                ),
                {"key": key, "hub": hub_name, "status": status, "created": created},
            )
    engine.dispose()
    text = app.test_client().get("/metrics").get_data(as_text=True)
    lines = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert lines['gateway_outbox_updates{hub="archive",status="pending"}'] == 2
    assert lines['gateway_outbox_updates{hub="default",status="rejected"}'] == 1
    assert lines['gateway_outbox_oldest_age_seconds{hub="archive"}'] >= 120
    # Every hub has every sample: zero counts and age when nothing is there.
    assert lines['gateway_outbox_updates{hub="archive",status="rejected"}'] == 0
    assert lines['gateway_outbox_updates{hub="default",status="pending"}'] == 0
    assert lines['gateway_outbox_oldest_age_seconds{hub="default"}'] == 0


def test_an_empty_outbox_reads_as_empty(tmp_path: Path) -> None:
    text = gateway(tmp_path, {}).test_client().get("/metrics").get_data(as_text=True)
    assert 'gateway_outbox_updates{hub="default",status="pending"} 0.0' in text
    assert 'gateway_outbox_updates{hub="default",status="rejected"} 0.0' in text
    assert 'gateway_outbox_oldest_age_seconds{hub="default"} 0.0' in text


@pytest.mark.parametrize(
    ("environ", "production", "headers", "status"),
    [
        ({}, False, {}, 200),
        ({}, True, {}, 404),
        ({"METRICS_TOKEN": TOKEN}, True, {}, 401),
        ({"METRICS_TOKEN": TOKEN}, True, {"Authorization": "Bearer wrong-token-of-some-size"}, 401),
        ({"METRICS_TOKEN": TOKEN}, True, {"Authorization": f"Bearer {TOKEN}"}, 200),
        ({"METRICS_TOKEN": TOKEN}, False, {}, 401),
        ({"METRICS_ADDRESS": "127.0.0.1:9100"}, False, {}, 404),
        ({"METRICS": "off"}, False, {}, 404),
    ],
    ids=[
        "development",
        "production",
        "token missing",
        "token wrong",
        "token",
        "token in development",
        "address elsewhere",
        "off",
    ],
)
def test_who_may_read_the_metrics(
    tmp_path: Path,
    environ: dict[str, str],
    production: bool,
    headers: dict[str, str],
    status: int,
) -> None:
    environ = {"AUTH_JWT_KEY": "x" * 64, **environ} if production else environ
    app = gateway(tmp_path, environ, production=production)
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 200:
        assert "mercure_subscribers_connected" in response.get_data(as_text=True)


def test_metrics_off_leave_the_hub_without_metrics(tmp_path: Path) -> None:
    app = gateway(tmp_path, {"METRICS": "off"})
    assert app.extensions["mercure_hub"].metrics is NO_METRICS
    assert EXTENSION_KEY not in app.extensions


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"METRICS": "maybe"}, "METRICS="),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
        ({"METRICS_ADDRESS": "localhost"}, "METRICS_ADDRESS"),
        # The private listener is told by its port: the public one must not share it.
        ({"METRICS_ADDRESS": "127.0.0.1:8000"}, "METRICS_ADDRESS.*PORT"),
        ({"METRICS_ADDRESS": "127.0.0.1:9100", "PORT": "9100"}, "METRICS_ADDRESS.*PORT"),
    ],
)
def test_invalid_settings_are_named(environ: dict[str, str], named: str) -> None:
    with pytest.raises(MetricsSettingsError, match=named):
        MetricsSettings.from_env(environ)


def test_a_scrape_over_http_is_the_text_format(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    live = serve(gateway(tmp_path, {}))
    response = httpx.get(f"{live.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
