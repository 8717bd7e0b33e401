"""Response headers added around the API: discovery links and CORS.

Discovery, as API Platform: every response of the API (under a resource's route, the
entrypoint ``/``, ``/contexts/...`` and ``/docs.jsonld``; errors included) carries
``Link: <root>docs.jsonld>; rel="http://www.w3.org/ns/hydra/core#apiDocumentation"``,
and those under the route of a resource whose ``mercure`` is enabled also
``<hub>; rel="mercure"``, in the same ``Link`` value after it (comma-separated), with the
hub URL made absolute against the root URL, preceded by the AsyncAPI document of the
updates: ``<root>docs.asyncapi.json>; rel="describedby";
type="application/vnd.aai.asyncapi+json"``. Other responses carry no ``Link``.
The root URL is ``PUBLIC_URL`` when it is set (as for the topics: a request's ``Host``
cannot move what is advertised), else the request's scheme, host and script root. The
value depends only on the hub URL and that root, so it is built once per combination (a
bounded cache: the host comes from the client).
CORS: for an ``Origin`` in the allowed list (``*`` allows any origin, without
credentials), allow it and expose ``Link``, ``Location`` and ``Content-Location`` so
browsers can discover the hub. The hub's own route has its own CORS and is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import Flask
from werkzeug.urls import iri_to_uri
from werkzeug.wsgi import get_host

from app.api.hydra import API_DOCUMENTATION_REL, DOCS_PATH
from app.headers import add_header_edit, replace, vary
from app.hub.http import HUB_PATH

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

ASYNCAPI_PATH = "/docs.asyncapi.json"
ASYNCAPI_TYPE = "application/vnd.aai.asyncapi+json"
EXPOSED_HEADERS = "Link, Location, Content-Location, Accept-Patch"
ALLOWED_HEADERS = "Accept, Authorization, Content-Type, Cache-Control, Last-Event-ID"
ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
LINK_CACHE_SIZE = 256
"""Distinct (hub URL, scheme, host, script root) combinations whose ``Link`` is kept."""
CONTEXTS_PREFIX = "/contexts/"


def public_root(public_url: str | None) -> str | None:
    """``PUBLIC_URL`` as the root of the links: a URI (IDNA host, percent-encoded path, as
    a header value must be), without its trailing ``/``; ``None`` when unset."""
    return iri_to_uri(public_url).rstrip("/") if public_url else None


def root_url(environ: WSGIEnvironment, public: str | None) -> str:
    """The root the API's links and IRIs start from, without its trailing ``/``: ``public``
    (:func:`public_root`) when set, else the request's scheme, host and script root, read
    from the WSGI environ as Werkzeug's ``Request`` reads them."""
    if public is not None:
        return public
    root_path = _decoded(environ.get("SCRIPT_NAME", "")).rstrip("/")
    return _root_url(environ.get("wsgi.url_scheme", "http"), get_host(environ), root_path)


@lru_cache(maxsize=LINK_CACHE_SIZE)
def _root_url(scheme: str, host: str, root_path: str) -> str:
    """What ``Request.root_url`` names, without its trailing ``/``, as a URI: Werkzeug's
    IRI decodes the script root's percent-escapes, which a header value cannot carry. A
    host Werkzeug refuses (``get_host`` answers ``""``) leaves the links relative to the
    request's host: a path with one leading ``/`` (two would name another host)."""
    path = quote(root_path.rstrip("/"), safe=_PATH_SAFE)
    if host:
        return f"{scheme}://{host}{path}"
    return "/" + path.lstrip("/") if path else ""


_PATH_SAFE = "!$&'()*+,/:;=@%"
"""What Werkzeug's ``get_current_url`` leaves unescaped in a path (``%`` as well: a
percent-escape stays as it is)."""


@lru_cache(maxsize=LINK_CACHE_SIZE)
def _api_links(hub_url: str | None, root: str) -> str:
    value = f'<{root}{DOCS_PATH}>; rel="{API_DOCUMENTATION_REL}"'
    if hub_url:
        value += f', <{root}{ASYNCAPI_PATH}>; rel="describedby"; type="{ASYNCAPI_TYPE}"'
        absolute = hub_url if "://" in hub_url else root + "/" + hub_url.lstrip("/")
        value += f', <{absolute}>; rel="mercure"'
    return value


def parse_origins(raw: str | None) -> tuple[str, ...]:
    """``"https://a.example, https://b.example"`` -> a tuple; empty when unset."""
    return tuple(o.strip().rstrip("/") for o in (raw or "").split(",") if o.strip())


def install(
    app: Flask,
    hub_urls: Mapping[str, str],
    cors_origins: Sequence[str],
    routes: Sequence[str] = (),
    public_url: str | None = None,
) -> None:
    """Add discovery and CORS headers to the answers of ``app`` (:class:`ApiHeaders`, an
    edit of its :class:`~app.headers.ResponseHeaders` layer).

    ``routes`` are the collection routes of every resource (with ``/``, ``/contexts/...``
    and ``/docs.jsonld``, the API's paths); ``hub_urls`` maps the collection route of each
    Mercure resource to the hub URL it advertises; responses under other routes carry no
    ``Link: rel="mercure"``. ``public_url`` (``PUBLIC_URL``), when set, is the root URL of
    the links instead of each request's.
    """
    add_header_edit(app, ApiHeaders(hub_urls, cors_origins, routes, public_url))


class ApiHeaders:
    """The edit of the discovery ``Link`` and the CORS headers (see the module), on every
    answer but the hub's. The CORS headers replace any of the same names; ``Origin`` joins
    the answer's ``Vary``.

    The links start from :func:`root_url`; the request's path is read from the WSGI
    environ as Werkzeug's ``Request`` reads it."""

    def __init__(
        self,
        hub_urls: Mapping[str, str],
        cors_origins: Sequence[str],
        routes: Sequence[str],
        public_url: str | None = None,
    ) -> None:
        self._public_root = public_root(public_url)
        self._hub_urls = dict(hub_urls)
        self._origins = frozenset(cors_origins)
        resource_routes = tuple(dict.fromkeys((*routes, *hub_urls)))
        self._api_paths = frozenset({"/", DOCS_PATH, *resource_routes})
        self._api_prefixes = (CONTEXTS_PREFIX, *(f"{route}/" for route in resource_routes))

    def __call__(self, environ: WSGIEnvironment, headers: list[tuple[str, str]]) -> None:
        for name, value in self._headers(environ):
            if name == "Vary":
                vary(headers, value)
            elif name == "Link":
                headers.append((name, value))
            else:
                replace(headers, name, value)

    def _headers(self, environ: WSGIEnvironment) -> list[tuple[str, str]]:
        path = _decoded(environ.get("PATH_INFO", ""))
        path = "/" + path.lstrip("/")
        if path == HUB_PATH or path.startswith(HUB_PATH + "/"):
            return []
        added: list[tuple[str, str]] = []
        hub_url = self._hub_url_of(path)
        if hub_url or path in self._api_paths or path.startswith(self._api_prefixes):
            root = root_url(environ, self._public_root)
            added.append(("Link", _api_links(hub_url, root)))
        origin = environ.get("HTTP_ORIGIN")
        origins = self._origins
        if origin and ("*" in origins or origin.rstrip("/") in origins):
            added.append(("Access-Control-Allow-Origin", "*" if "*" in origins else origin))
            added.append(("Access-Control-Expose-Headers", EXPOSED_HEADERS))
            added.append(("Vary", "Origin"))
            if environ.get("REQUEST_METHOD") == "OPTIONS":
                added.append(("Access-Control-Allow-Methods", ALLOWED_METHODS))
                added.append(("Access-Control-Allow-Headers", ALLOWED_HEADERS))
        return added

    def _hub_url_of(self, path: str) -> str | None:
        for route, url in self._hub_urls.items():
            if path == route or path.startswith(route + "/"):
                return url
        return None


def _decoded(value: str) -> str:
    """A WSGI environ string (bytes as latin-1) as Werkzeug decodes it (UTF-8)."""
    return value if value.isascii() else value.encode("latin-1").decode(errors="replace")
