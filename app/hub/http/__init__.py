"""The hub's HTTP face: ``/.well-known/mercure`` (subscribe, publish) and the subscriptions API.

Mercure 0.x and 1.0 are both spoken (``MERCURE_PROTOCOLS``), chosen per request (see
:mod:`.bearer`); 1.0 adds the RFC 9728 protected resource metadata document at
``/.well-known/oauth-protected-resource/.well-known/mercure``.

One module per protocol action, as the reference hub has them: :mod:`.subscribe`,
:mod:`.publish` and :mod:`.subscriptions` (each documents its statuses and bodies);
:mod:`.responses` holds what they share. This module binds them to a hub in a blueprint.

CORS: responses to an ``Origin`` listed in ``cors_origins`` allow it with credentials;
``*`` allows any origin without credentials (anonymous use only).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from app.hub.headers import add_security_headers
from app.hub.http.bearer import metadata_document, metadata_path
from app.hub.http.publish import publish
from app.hub.http.responses import HUB_PATH, text
from app.hub.http.subscribe import subscribe
from app.hub.http.subscriptions import subscriptions
from app.hub.subscriptions import SUBSCRIPTIONS_PATH

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = ["HUB_PATH", "create_blueprint", "text"]

ALLOWED_HEADERS = "authorization, cache-control, last-event-id"
EXPOSED_HEADERS = "link, mercure-last-event-id, last-event-id, www-authenticate"
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"


def create_blueprint(hub: Hub) -> Blueprint:
    """The hub's blueprint, bound to ``hub``."""
    settings = hub.settings
    blueprint = Blueprint("mercure_hub", __name__)
    blueprint.after_request(add_security_headers)  # for a hub mounted alone
    # One bound method shared by every stream's clean-up (no closure per subscriber).
    disconnect = hub.disconnect

    @blueprint.after_request
    def cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if not origin:
            return response
        if "*" in settings.cors_origins:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin in settings.cors_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.vary.add("Origin")
        else:
            return response
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        return response

    @blueprint.route(HUB_PATH, methods=["OPTIONS"], provide_automatic_options=False)
    def preflight() -> Response:
        return Response(status=200)

    @blueprint.route(HUB_PATH, methods=["GET", "HEAD"], endpoint="subscribe")
    def subscribe_view() -> Response:
        return subscribe(hub, disconnect)

    @blueprint.route(HUB_PATH, methods=["POST"], endpoint="publish")
    def publish_view() -> Response:
        return publish(hub)

    if settings.v1:

        @blueprint.route(metadata_path(settings.resource), methods=["GET"], endpoint="metadata")
        def metadata_view() -> Response:
            return Response(
                json.dumps(metadata_document(settings), indent=2),
                content_type="application/json",
                headers={"Cache-Control": "public, max-age=3600"},
            )

    if settings.subscriptions:

        @blueprint.route(SUBSCRIPTIONS_PATH, methods=["GET"], endpoint="subscriptions")
        @blueprint.route(
            SUBSCRIPTIONS_PATH + "/<path:rest>", methods=["GET"], endpoint="subscriptions"
        )
        def subscriptions_view(rest: str | None = None) -> Response:
            return subscriptions(hub)

    return blueprint
