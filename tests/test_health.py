"""``/healthz`` and ``/readyz`` in one process: the database and the transport checked.

Redis stopped and started under two gunicorn workers: ``tests/deploy/test_observability.py``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import create_app
from app.settings import Settings
from tests.publish.gateway import AUTH_SETTINGS, HUB_SETTINGS, bookshop
from tests.services import free_port


def gateway(database_url: str) -> Flask:
    return create_app(
        Settings(database_url=database_url),
        spec=bookshop(),
        hub_settings=HUB_SETTINGS,
        auth_settings=AUTH_SETTINGS,
        environ={},
    )


def test_a_serving_gateway_is_alive_and_ready(tmp_path: Path) -> None:
    client = gateway(f"sqlite:///{tmp_path / 'db.sqlite'}").test_client()
    assert client.get("/healthz").get_json() == {"status": "pass"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "up", "transport": "up"}


def test_an_unreachable_database_makes_it_unready_not_dead() -> None:
    # Nothing listens on this port: the connection is refused at once.
    url = f"postgresql+psycopg://gateway@127.0.0.1:{free_port()}/gateway"
    client = gateway(url).test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.mimetype == "application/problem+json"
    problem = ready.get_json()
    assert problem["checks"] == {"database": "down", "transport": "up"}
    assert problem["detail"].startswith("Not ready: the database is unreachable")
    assert "127.0.0.1" not in ready.get_data(as_text=True)  # the reason is logged only


def test_a_closed_transport_makes_it_unready(tmp_path: Path) -> None:
    app = gateway(f"sqlite:///{tmp_path / 'db.sqlite'}")
    app.extensions["mercure_hub"].close()
    problem = app.test_client().get("/readyz").get_json()
    assert problem["status"] == 503
    assert problem["checks"] == {"database": "up", "transport": "down"}
