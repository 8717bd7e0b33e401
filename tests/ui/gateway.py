"""The shipped bookshop gateway with its hub and debug UI, on a real gevent server.

Users' bearer tokens are verified with :data:`AUTH_JWT_KEY`; :func:`user_token` mints them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app import create_app
from app.auth import AuthSettings
from app.auth.command import mint_user_token
from app.hub.settings import HubSettings
from app.settings import Settings
from tests.publish.gateway import Gateway, bookshop
from tests.services import LiveServer, free_port, hs256_token

JWT_KEY = "browser-tests-key-of-at-least-32-bytes!"
AUTH_JWT_KEY = "browser-tests-users-key-of-at-least-32-bytes!"
JSON_LD = {"Content-Type": "application/ld+json", "Accept": "application/ld+json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json", "Accept": "application/ld+json"}


def token(*, publish: list[str] | None = None, subscribe: list[str] | None = None) -> str:
    """A JWT signed with this suite's key, carrying the given ``mercure`` selectors."""
    return hs256_token(JWT_KEY, publish=publish, subscribe=subscribe)


def user_token(subject: str, *roles: str) -> str:
    """A user's bearer token (``sub`` and ``roles``) for this suite's gateways, valid 1h."""
    return mint_user_token(AUTH_JWT_KEY, "HS256", subject, roles, expires_in=3600)


def start_gateway(
    serve: Callable[..., LiveServer],
    database: Path,
    *,
    subscriptions: bool = False,
    host: str = "127.0.0.1",
) -> Gateway:
    """Serve the bookshop on ``database`` (tables created) with the UI on; ``PUBLIC_URL``
    is the server's own origin under ``host`` (the name pages are opened under) so topics
    are ``http://HOST:PORT/books/{id}``."""
    port = free_port()
    settings = Settings(database_url=f"sqlite:///{database}", public_url=f"http://{host}:{port}")
    hub_settings = HubSettings(
        publisher_key=JWT_KEY,
        subscriber_key=JWT_KEY,
        heartbeat=0,
        ui=True,
        subscriptions=subscriptions,
    )
    app = create_app(
        settings,
        spec=bookshop(),
        hub_settings=hub_settings,
        auth_settings=AuthSettings(key=AUTH_JWT_KEY),
        environ={},
    )
    with app.app_context():
        app.extensions["model_registry"].db.create_all()
    return Gateway(app, serve(app, port=port))
