"""Response headers added around the API: Mercure discovery and CORS.

Discovery: every response under the route of a resource whose ``mercure`` is enabled
(items, collections, and errors on those paths) carries ``Link: <hub>; rel="mercure"``
with the hub URL made absolute against the request's root URL; other responses carry
none. CORS: for an ``Origin`` in the allowed list (``*`` allows any origin, without
credentials), allow it and expose ``Link``, ``Location`` and ``Content-Location`` so
browsers can discover the hub. The hub's own route has its own CORS and is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import Flask, Request, Response, request

HUB_PATH = "/.well-known/mercure"
EXPOSED_HEADERS = "Link, Location, Content-Location, Accept-Patch"
ALLOWED_HEADERS = "Accept, Authorization, Content-Type, Cache-Control, Last-Event-ID"
ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


def absolute_hub_url(hub_url: str, req: Request) -> str:
    """``hub_url`` as an absolute URL: relative paths are resolved against the app root."""
    if "://" in hub_url:
        return hub_url
    return req.root_url.rstrip("/") + "/" + hub_url.lstrip("/")


def parse_origins(raw: str | None) -> tuple[str, ...]:
    """``"https://a.example, https://b.example"`` -> a tuple; empty when unset."""
    return tuple(o.strip().rstrip("/") for o in (raw or "").split(",") if o.strip())


def install(app: Flask, hub_urls: Mapping[str, str], cors_origins: Sequence[str]) -> None:
    """Register the ``after_request`` hook adding discovery and CORS headers.

    ``hub_urls`` maps the collection route of each Mercure resource to the hub URL it
    advertises; responses under other routes carry no ``Link: rel="mercure"``.
    """
    origins = frozenset(cors_origins)

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
        if hub_url:
            response.headers.add("Link", f'<{absolute_hub_url(hub_url, request)}>; rel="mercure"')
        origin = request.headers.get("Origin")
        if origin and ("*" in origins or origin.rstrip("/") in origins):
            response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            response.vary.add("Origin")
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        return response
