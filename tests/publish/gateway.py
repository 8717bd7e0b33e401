"""A whole gateway (the shipped bookshop) on a real gevent server, for end-to-end tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from gevent.pool import Pool
from gevent.pywsgi import WSGIServer

from app import create_app
from app.auth.command import mint_user_token
from app.auth.settings import AuthSettings
from app.config import ResourcesSpec, load_resources
from app.hub.settings import HubSettings
from app.publish import EXTENSION_KEY
from app.publish.publisher import Publisher
from app.settings import Settings
from tests.services import LiveServer, free_port, hs256_token

ROOT = Path(__file__).resolve().parents[2]
JWT_KEY = "publish-tests-key-of-at-least-32-bytes!"
HUB_SETTINGS = HubSettings(publisher_key=JWT_KEY, subscriber_key=JWT_KEY, heartbeat=0)
USER_KEY = "publish-tests-users-key-of-at-least-32-bytes"
AUTH_SETTINGS = AuthSettings(key=USER_KEY)
"""The gateway's ``AUTH_JWT_KEY``: users' bearer tokens are signed with it."""
JSON_LD = {"Content-Type": "application/ld+json", "Accept": "application/ld+json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def bookshop() -> ResourcesSpec:
    return load_resources(ROOT / "resources.yaml")


def token(*, publish: list[str] | None = None, subscribe: list[str] | None = None) -> str:
    """A JWT signed with this suite's key, carrying the given ``mercure`` selectors."""
    return hs256_token(JWT_KEY, publish=publish, subscribe=subscribe)


def as_user(subject: str, *roles: str) -> dict[str, str]:
    """The ``Authorization`` header of a user's bearer token, minted as ``flask auth token``
    mints it with the gateway's key."""
    user_token = mint_user_token(USER_KEY, "HS256", subject, roles, expires_in=3600)
    return {"Authorization": f"Bearer {user_token}"}


ADMIN = as_user("admin", "admin")
"""An administrator: the bookshop's catalogue is theirs to change."""


@dataclass
class Gateway:
    app: Flask
    live: LiveServer

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def hub_url(self) -> str:
        return f"{self.url}/.well-known/mercure"

    @property
    def publisher(self) -> Publisher:
        publisher: Publisher = self.app.extensions[EXTENSION_KEY]
        return publisher

    @property
    def db(self) -> Any:
        return self.app.extensions["model_registry"].db

    def model(self, name: str) -> Any:
        return self.app.extensions["model_registry"].model(name)


def start_gateway(
    serve: Callable[..., LiveServer],
    database: Path,
    *,
    spec: ResourcesSpec | None = None,
    port: int | None = None,
) -> Gateway:
    """Build the app on ``database`` (tables created) and serve it; ``PUBLIC_URL`` is the
    server's own origin, so changes made outside requests get the same topics."""
    port = port or free_port()
    app = build_app(database, spec=spec, public_url=f"http://127.0.0.1:{port}")
    return Gateway(app, serve(app, port=port))


def build_app(
    database: Path, *, spec: ResourcesSpec | None = None, public_url: str | None = None
) -> Flask:
    """The bookshop gateway on ``database``, tables created."""
    settings = Settings(database_url=f"sqlite:///{database}", public_url=public_url)
    app = create_app(
        settings, spec=spec or bookshop(), hub_settings=HUB_SETTINGS, auth_settings=AUTH_SETTINGS
    )
    with app.app_context():
        app.extensions["model_registry"].db.create_all()
    return app


class KillableServer:
    """A gevent server whose :meth:`kill` also ends every open connection (keep-alive
    and SSE streams), as a crashed process would; :meth:`start` serves again on the same
    port. The ``serve`` fixture's servers let open connections outlive ``stop``."""

    def __init__(self, app: Flask, port: int) -> None:
        self.app = app
        self.port = port
        self._server: WSGIServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = WSGIServer(
            ("127.0.0.1", self.port), self.app, spawn=Pool(), log=None, error_log=None
        )
        self._server.start()

    def kill(self) -> None:
        if self._server is not None:
            self._server.stop(timeout=0)
            self._server = None
