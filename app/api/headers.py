"""Response headers added around the API: discovery links and CORS.

Discovery, as API Platform: every response of the API (under a resource's route, the
entrypoint ``/``, ``/contexts/...`` and ``/docs.jsonld``; errors included) carries
``Link: <root>docs.jsonld>; rel="http://www.w3.org/ns/hydra/core#apiDocumentation"``,
and those under the route of a resource whose ``mercure`` is enabled also
``<hub>; rel="mercure"``, in the same ``Link`` value after it (comma-separated), with the
hub URL made absolute against the request's root URL, preceded by the AsyncAPI document of
the updates: ``<root>docs.asyncapi.json>; rel="describedby";
type="application/vnd.aai.asyncapi+json"``. Other responses carry no ``Link``.
The value depends only on the hub URL and the request's scheme, host and script root, so
it is built once per such combination (a bounded cache: the host comes from the client).
CORS: for an ``Origin`` in the allowed list (``*`` allows any origin, without
credentials), allow it and expose ``Link``, ``Location`` and ``Content-Location`` so
browsers can discover the hub. The hub's own route has its own CORS and is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from flask import Flask, Request, Response, request
from werkzeug.sansio.utils import get_current_url

from app.api.hydra import API_DOCUMENTATION_REL, DOCS_PATH
from app.headers import add_vary
from app.hub.http import HUB_PATH

ASYNCAPI_PATH = "/docs.asyncapi.json"
ASYNCAPI_TYPE = "application/vnd.aai.asyncapi+json"
EXPOSED_HEADERS = "Link, Location, Content-Location, Accept-Patch"
ALLOWED_HEADERS = "Accept, Authorization, Content-Type, Cache-Control, Last-Event-ID"
ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
LINK_CACHE_SIZE = 256
"""Distinct (hub URL, scheme, host, script root) combinations whose ``Link`` is kept."""
CONTEXTS_PREFIX = "/contexts/"


def _absolute(path: str, scheme: str, host: str, root_path: str) -> str:
    # ``get_current_url(scheme, host, root_path)`` is what ``Request.root_url`` returns.
    return get_current_url(scheme, host, root_path).rstrip("/") + "/" + path.lstrip("/")


def _link(hub_url: str, scheme: str, host: str, root_path: str) -> str:
    absolute = hub_url if "://" in hub_url else _absolute(hub_url, scheme, host, root_path)
    return f'<{absolute}>; rel="mercure"'


def api_links(hub_url: str | None, req: Request) -> str:
    """The ``Link`` value of an API response: the Hydra documentation, then the hub if any."""
    return _api_links(hub_url, req.scheme, req.host, req.root_path)


@lru_cache(maxsize=LINK_CACHE_SIZE)
def _api_links(hub_url: str | None, scheme: str, host: str, root_path: str) -> str:
    docs = _absolute(DOCS_PATH, scheme, host, root_path)
    value = f'<{docs}>; rel="{API_DOCUMENTATION_REL}"'
    if hub_url:
        asyncapi = _absolute(ASYNCAPI_PATH, scheme, host, root_path)
        value += f', <{asyncapi}>; rel="describedby"; type="{ASYNCAPI_TYPE}"'
        value += ", " + _link(hub_url, scheme, host, root_path)
    return value


def parse_origins(raw: str | None) -> tuple[str, ...]:
    """``"https://a.example, https://b.example"`` -> a tuple; empty when unset."""
    return tuple(o.strip().rstrip("/") for o in (raw or "").split(",") if o.strip())


def install(
    app: Flask,
    hub_urls: Mapping[str, str],
    cors_origins: Sequence[str],
    routes: Sequence[str] = (),
) -> None:
    """Register the ``after_request`` hook adding discovery and CORS headers.

    ``routes`` are the collection routes of every resource (with ``/``, ``/contexts/...``
    and ``/docs.jsonld``, the API's paths); ``hub_urls`` maps the collection route of each
    Mercure resource to the hub URL it advertises; responses under other routes carry no
    ``Link: rel="mercure"``.
    """
    origins = frozenset(cors_origins)
    resource_routes = tuple(dict.fromkeys((*routes, *hub_urls)))
    api_paths = frozenset({"/", DOCS_PATH, *resource_routes})
    api_prefixes = (CONTEXTS_PREFIX, *(f"{route}/" for route in resource_routes))

    def hub_url_of(path: str) -> str | None:
        for route, url in hub_urls.items():
            if path == route or path.startswith(route + "/"):
                return url
        return None

    @app.after_request
    def _api_headers(response: Response) -> Response:
        path = request.path
        if path == HUB_PATH or path.startswith(HUB_PATH + "/"):
            return response
        hub_url = hub_url_of(path)
        if hub_url or path in api_paths or path.startswith(api_prefixes):
            response.headers.add("Link", api_links(hub_url, request))
        origin = request.headers.get("Origin")
        if origin and ("*" in origins or origin.rstrip("/") in origins):
            response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            add_vary(response, "Origin")
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        return response
