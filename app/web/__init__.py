"""The live page served at ``/``: every resource's collection, updated from the hub.

The page (template and script packaged beside this module) reads each collection from its
route with ``Accept: application/ld+json``, finds the hub in the ``Link: rel="mercure"``
response header and subscribes with ``EventSource`` to the absolute item IRI template of
the resource (``http://host/books/{id}``): a create or update payload (the JSON-LD item)
upserts its row, a delete payload (``{"@id": "/books/1"}``) removes it.

Private resources reach the page only with a subscriber token, which the hub takes from
its authorization cookie; the page itself holds no secret.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, render_template

from app.config.spec import ResourceSpec, ResourcesSpec
from app.hub import EXTENSION_KEY as HUB_EXTENSION_KEY
from app.hub.settings import DEFAULT_COOKIE_NAME
from app.publish.payload import origin

__all__ = ["ENDPOINT", "init_app", "page_config"]

ENDPOINT = "web.index"


def _origin() -> str:
    """Origin of absolute IRIs, the one the publisher puts in topics."""
    settings = current_app.config.get("GATEWAY_SETTINGS")
    return origin(getattr(settings, "public_url", None))


def _columns(resource: ResourceSpec) -> list[str]:
    readable = [f.name for f in resource.fields if not f.write_only]
    readable += [r.name for r in resource.relations if not r.write_only]
    return readable


def page_config(spec: ResourcesSpec, origin: str) -> dict[str, Any]:
    """The JSON the page script works from: resources with routes, columns and topics."""
    return {
        "title": spec.api.title,
        "resources": [
            {
                "name": resource.name,
                "route": resource.route,
                "columns": _columns(resource),
                "live": resource.mercure.enabled,
                "private": resource.mercure.private,
                "topic": f"{origin}{resource.route}/{{id}}",
            }
            for resource in spec.resources
            if "get_collection" in resource.operations
        ],
    }


def init_app(app: Flask, spec: ResourcesSpec) -> None:
    """Serve the live page at ``/`` (endpoint :data:`ENDPOINT`, ``GET`` only, HTML).

    When the REST entrypoint also answers ``/``, it defers to this endpoint for clients
    that prefer HTML.
    """
    blueprint = Blueprint(
        "web",
        __name__,
        static_folder="static",
        static_url_path="/web/static",
        template_folder="templates",
    )

    @blueprint.get("/")
    def index() -> str:
        hub = current_app.extensions.get(HUB_EXTENSION_KEY)
        cookie_name = getattr(getattr(hub, "settings", None), "cookie_name", DEFAULT_COOKIE_NAME)
        return render_template(
            "web/index.html",
            config=page_config(spec, _origin()),
            title=spec.api.title,
            cookie_name=cookie_name,
            ui_enabled="mercure_ui.index" in current_app.view_functions,
        )

    app.register_blueprint(blueprint)
