"""The hub's debug UI at ``/.well-known/mercure/debug/`` and ``/.well-known/mercure/ui/``.

A single page, with its script and style packaged beside this module (no CDN), speaking
both protocols the hub speaks: subscribe (0.x topic selectors, or 1.0 ``match`` /
``match_urlpattern`` matchers; ``Last-Event-ID``), publish (every form field), set the
token used for both (kept in the protocol's cookie, sent as ``Authorization: Bearer``, or,
in 0.x only, as the ``authorization`` query parameter) and list active subscriptions
when the hub has them. ``/debug/`` (the reference hub's 1.0 path) starts in 1.0 when the
hub speaks it; ``/ui/`` starts in 0.x.

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

__all__ = ["DEBUG_PATH", "UI_PATH", "init_app"]

UI_PATH = f"{HUB_PATH}/ui"
DEBUG_PATH = f"{HUB_PATH}/debug"


def create_blueprint(
    settings: HubSettings, *, name: str = "mercure_ui", path: str = UI_PATH, protocol: str = "0.x"
) -> Blueprint:
    """The blueprint ``name`` serving the page and its assets under ``path``, for a hub
    with ``settings`` (its cookie names, protocols, whether it has the subscriptions
    API); the page starts in ``protocol`` when the hub speaks it."""
    if protocol not in settings.protocols:
        protocol = settings.protocols[0]
    blueprint = Blueprint(
        name,
        __name__,
        url_prefix=path,
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
            access_token_cookie=settings.access_token_cookie,
            protocols=" ".join(settings.protocols),
            protocol=protocol,
            subscriptions=settings.subscriptions,
            static=f"{name}.static",
        )

    return blueprint


def init_app(app: Flask, settings: HubSettings) -> None:
    """Serve the debug UI of the hub with ``settings``, mounted on ``app``."""
    app.register_blueprint(create_blueprint(settings))
    app.register_blueprint(
        create_blueprint(settings, name="mercure_debug", path=DEBUG_PATH, protocol="1.0")
    )
