"""The app factory builds a working application from its defaults."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app import create_app
from app.hub.http import HUB_PATH
from app.settings import Settings, SettingsError
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


def test_one_cors_setting_covers_the_api_and_the_hub(tmp_path: Path, serve: object) -> None:
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "CORS_ALLOWED_ORIGINS": "https://admin.example",
    }
    live: LiveServer = serve(create_app(environ=environ))  # type: ignore[operator]
    origin = {"Origin": "https://admin.example"}
    preflight = httpx.options(
        f"{live.url}{HUB_PATH}",
        headers={**origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["access-control-allow-origin"] == "https://admin.example"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    with httpx.stream(
        "GET", f"{live.url}{HUB_PATH}", params={"topic": "*"}, headers=origin, timeout=5
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["access-control-allow-origin"] == "https://admin.example"


def test_the_hubs_own_cors_setting_overrides_the_apis(tmp_path: Path, serve: object) -> None:
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "CORS_ALLOWED_ORIGINS": "https://admin.example",
        "MERCURE_CORS_ORIGINS": "https://live.example",
    }
    live: LiveServer = serve(create_app(environ=environ))  # type: ignore[operator]
    request = {"Access-Control-Request-Method": "GET"}
    api = httpx.options(
        f"{live.url}{HUB_PATH}", headers={**request, "Origin": "https://admin.example"}
    )
    assert "access-control-allow-origin" not in api.headers
    hub = httpx.options(
        f"{live.url}{HUB_PATH}", headers={**request, "Origin": "https://live.example"}
    )
    assert hub.headers["access-control-allow-origin"] == "https://live.example"
    books = httpx.get(f"{live.url}/docs.jsonld", headers={"Origin": "https://admin.example"})
    assert books.headers["access-control-allow-origin"] == "https://admin.example"


def test_unknown_properties_follow_the_setting_unless_a_resource_says(
    tmp_path: Path, serve: object
) -> None:
    resources = tmp_path / "resources.yaml"
    resources.write_text(
        "resources:\n"
        "  Note: {fields: {text: string}}\n"
        "  Tag: {fields: {text: string}, allow_extra_attributes: true}\n"
    )
    body = {"text": "t", "originId": 1}
    for setting, note_status in ((None, 201), ("false", 422)):
        environ = {
            "DATABASE_URL": f"sqlite:///{tmp_path / f'db-{setting}.sqlite'}",
            "RESOURCES_FILE": str(resources),
        }
        if setting is not None:
            environ["ALLOW_EXTRA_ATTRIBUTES"] = setting
        application = create_app(environ=environ)
        with application.app_context():
            application.extensions["model_registry"].db.create_all()
        live: LiveServer = serve(application)  # type: ignore[operator]
        note = httpx.post(f"{live.url}/notes", json=body)
        assert note.status_code == note_status, note.text
        assert httpx.post(f"{live.url}/tags", json=body).status_code == 201
    assert httpx.post(f"{live.url}/notes", json={"text": "t", "id": 9}).status_code == 201


def test_allow_extra_attributes_must_be_a_boolean() -> None:
    with pytest.raises(SettingsError, match="ALLOW_EXTRA_ATTRIBUTES='maybe' is not a boolean"):
        Settings.from_env({"ALLOW_EXTRA_ATTRIBUTES": "maybe"})


@pytest.mark.parametrize(
    ("public_url", "warned"),
    [
        ("https://shop.example", False),
        ("https://shop.example/", False),
        ("https://x.test/api", True),
    ],
)
def test_a_public_url_with_a_path_is_warned_about(
    caplog: pytest.LogCaptureFixture, public_url: str, warned: bool
) -> None:
    """Item IRIs are relative to the gateway's root: a path in front of it would be missing
    from them, while the topics and links have it."""
    with caplog.at_level("WARNING", logger="app"):
        assert Settings.from_env({"PUBLIC_URL": public_url}).public_url == public_url
    warnings = [r.getMessage() for r in caplog.records if "has a path" in r.getMessage()]
    assert bool(warnings) is warned
    if warned:
        assert "serve the gateway at the root of a host" in warnings[0]
