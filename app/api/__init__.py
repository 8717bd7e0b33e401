"""REST views from the spec: JSON-LD/Hydra and plain JSON in API Platform 4's shapes.

Routes per resource (only those of its declared operations): ``<route>`` (``GET``,
``POST``) and ``<route>/<id>`` (``GET``, ``PUT``, ``PATCH``, ``DELETE``); plus
``/contexts/<Name>``, the Hydra documentation ``/docs.jsonld`` (always JSON-LD, as its
extension says) and the entrypoint ``/``. Every error is an :mod:`app.errors`
problem document. Unsupported methods get 405 with ``Allow``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, request
from flask.typing import ResponseReturnValue

from app.access.guard import CurrentUser, Guard
from app.api import documents, headers, hydra
from app.api.endpoint import Endpoint
from app.api.negotiation import (
    EXTENSION_KEY,
    ApiState,
    document_response,
    prefers_html,
    response_format,
)
from app.api.views import CollectionView, ItemView
from app.config.spec import ResourcesSpec
from app.errors import NotFound
from app.models import ModelRegistry
from app.settings import DEFAULT_MAX_BODY_SIZE

__all__ = ["init_app"]

WEB_INDEX = "web.index"
"""Endpoint of the HTML page ``/`` answers for browsers, when the app has one."""

_COLLECTION_METHODS = {"get_collection": "GET", "post": "POST"}
_ITEM_METHODS = {"get": "GET", "put": "PUT", "patch": "PATCH", "delete": "DELETE"}


def init_app(
    app: Flask,
    spec: ResourcesSpec,
    registry: ModelRegistry,
    hub_url_for: Callable[[str], str | None],
    current_user: CurrentUser,
    *,
    cors_origins: str | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    public_url: str | None = None,
) -> None:
    """Register the REST routes, contexts, Hydra documentation, entrypoint and headers.

    ``hub_url_for(resource_name)`` is the public hub URL a Mercure-enabled resource
    advertises (a resource whose ``mercure.hub`` names another hub advertises that hub;
    ``None``: no discovery). ``cors_origins`` are the origins allowed to call the API
    (``CORS_ALLOWED_ORIGINS``: comma-separated, or ``*``); ``max_body_size`` bounds the
    request bodies read (``MAX_BODY_SIZE``); ``public_url`` (``PUBLIC_URL``), when set, is
    the root URL of the discovery links and of the documentation's IRI instead of each
    request's.
    ``current_user()`` is the request's authenticated user, whom each resource's security
    rules judge.
    """
    blueprint = Blueprint("api", __name__)
    for resource in spec.resources:
        endpoint = Endpoint.build(registry, resource, Guard(resource, current_user))
        methods = [m for op, m in _COLLECTION_METHODS.items() if op in resource.operations]
        if methods:
            blueprint.add_url_rule(
                resource.route,
                view_func=CollectionView.as_view(f"{resource.name}_collection", endpoint),
                methods=methods,
            )
        methods = [m for op, m in _ITEM_METHODS.items() if op in resource.operations]
        if methods:
            blueprint.add_url_rule(
                f"{resource.route}/<int:item_id>",
                view_func=ItemView.as_view(f"{resource.name}_item", endpoint),
                methods=methods,
            )

    public = headers.public_root(public_url)

    def vocabulary() -> str:
        """The ``@vocab`` of the contexts: the documentation's IRI, rooted as the links."""
        return f"{headers.root_url(request.environ, public)}{hydra.DOCS_PATH}#"

    @blueprint.get("/contexts/<name>")
    def context(name: str) -> ResponseReturnValue:
        fmt = response_format(request)
        document = documents.context(spec, name, vocabulary())
        if document is None:
            raise NotFound(f"No JSON-LD context called {name!r}.")
        return document_response(document, fmt)

    @blueprint.get(hydra.DOCS_PATH)
    def documentation() -> ResponseReturnValue:
        document = hydra.documentation(spec, vocabulary())
        response = document_response(document, "jsonld")
        del response.headers["Vary"]  # the path, not Accept, selects the representation
        return response

    @blueprint.get("/")
    def entrypoint() -> ResponseReturnValue:
        web_index = current_app.view_functions.get(WEB_INDEX)
        if web_index is not None and prefers_html(request):
            return current_app.ensure_sync(web_index)()  # type: ignore[no-any-return]
        fmt = response_format(request)
        return document_response(documents.entrypoint(spec, jsonld=fmt == "jsonld"), fmt)

    app.register_blueprint(blueprint)
    app.extensions[EXTENSION_KEY] = ApiState(max_body_size)
    hub_urls: dict[str, str] = {}
    for resource in spec.resources:
        url = hub_url_for(resource.name)
        if resource.mercure.enabled and url:
            hub_urls[resource.route] = url
    routes = [resource.route for resource in spec.resources]
    headers.install(app, hub_urls, headers.parse_origins(cors_origins), routes, public_url)
