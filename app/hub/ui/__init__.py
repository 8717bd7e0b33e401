"""The hub's debug UI at ``/.well-known/mercure/ui/``.

A single page, with its script and style packaged beside this module (no CDN), to
subscribe (topic selectors, ``Last-Event-ID``), publish (every form field of the protocol),
set the JWT used for both (kept in the hub's authorization cookie or sent as the
``authorization`` query parameter) and list active subscriptions when the hub has them.

Security: the page holds no secret; it only uses the token the visitor types, so mounting
it grants nothing. It is mounted by the hub when ``MERCURE_UI`` is on (development).
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request

__all__ = ["UI_PATH", "init_app"]

UI_PATH = "/.well-known/mercure/ui"
HUB_EXTENSION = "mercure_hub"
DEFAULT_COOKIE_NAME = "mercureAuthorization"


def _cookie_name() -> str:
    hub = current_app.extensions.get(HUB_EXTENSION)
    settings = getattr(hub, "settings", None)
    return str(getattr(settings, "cookie_name", DEFAULT_COOKIE_NAME))


def _subscriptions_enabled() -> bool:
    hub = current_app.extensions.get(HUB_EXTENSION)
    settings = getattr(hub, "settings", None)
    return bool(getattr(settings, "subscriptions", False))


def create_blueprint() -> Blueprint:
    """The blueprint serving the page and its assets under :data:`UI_PATH`."""
    blueprint = Blueprint(
        "mercure_ui",
        __name__,
        url_prefix=UI_PATH,
        static_folder="static",
        static_url_path="/static",
        template_folder="templates",
    )

    @blueprint.get("/")
    def index() -> str:
        hub_path = request.script_root + UI_PATH.rsplit("/", 1)[0]
        return render_template(
            "mercure_ui/index.html",
            hub_path=hub_path,
            cookie_name=_cookie_name(),
            subscriptions=_subscriptions_enabled(),
        )

    return blueprint


def init_app(app: Flask) -> None:
    """Serve the debug UI on ``app``. The hub must be mounted at ``/.well-known/mercure``."""
    app.register_blueprint(create_blueprint())
