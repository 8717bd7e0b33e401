"""The hub's debug UI at ``/.well-known/mercure/ui/``.

A single page, with its script and style packaged beside this module (no CDN), to
subscribe (topic selectors, ``Last-Event-ID``), publish (every form field of the protocol),
set the JWT used for both (kept in the hub's authorization cookie or sent as the
``authorization`` query parameter) and list active subscriptions when the hub has them.

Security: the page holds no secret; it only uses the token the visitor types, so mounting
it grants nothing. It is mounted by the hub when ``MERCURE_UI`` is on (development). It
runs under a content security policy allowing nothing but the hub's own origin (and
``data:`` images): no inline script or style. Its answers carry the hub's security headers
(:mod:`app.hub.headers`) when the hub is mounted alone; in the gateway, the gateway's.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request

from app.hub.headers import add_security_headers
from app.hub.http import HUB_PATH
from app.hub.settings import HubSettings

__all__ = ["UI_PATH", "init_app"]

UI_PATH = f"{HUB_PATH}/ui"


def create_blueprint(settings: HubSettings) -> Blueprint:
    """The blueprint serving the page and its assets under :data:`UI_PATH`, for a hub
    with ``settings`` (its cookie name, whether it has the subscriptions API)."""
    blueprint = Blueprint(
        "mercure_ui",
        __name__,
        url_prefix=UI_PATH,
        static_folder="static",
        static_url_path="/static",
        template_folder="templates",
    )
    blueprint.after_request(add_security_headers)

    @blueprint.get("/")
    def index() -> str:
        return render_template(
            "mercure_ui/index.html",
            hub_path=request.script_root + HUB_PATH,
            cookie_name=settings.cookie_name,
            subscriptions=settings.subscriptions,
        )

    return blueprint


def init_app(app: Flask, settings: HubSettings) -> None:
    """Serve the debug UI of the hub with ``settings``, mounted on ``app``."""
    app.register_blueprint(create_blueprint(settings))
