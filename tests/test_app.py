"""The app factory builds a working application from its defaults."""

from __future__ import annotations

from pathlib import Path

import httpx

from app import create_app
from app.settings import Settings
from tests.services import LiveServer


def test_factory_builds_app_served_by_gevent(tmp_path: Path, serve: object) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    application = create_app(settings, environ={})
    live: LiveServer = serve(application)  # type: ignore[operator]
    response = httpx.get(f"{live.url}/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_cors_origins_come_from_the_given_environment(tmp_path: Path, serve: object) -> None:
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "CORS_ALLOWED_ORIGINS": "https://app.example",
    }
    application = create_app(environ=environ)
    with application.app_context():
        application.extensions["model_registry"].db.create_all()
    live: LiveServer = serve(application)  # type: ignore[operator]
    allowed = httpx.get(f"{live.url}/books", headers={"Origin": "https://app.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    other = httpx.get(f"{live.url}/books", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
