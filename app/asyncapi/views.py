"""HTTP endpoints: ``/docs.asyncapi.json``, ``/docs.asyncapi.yaml`` and the page ``/docs/asyncapi``.

The document depends on the public origin (topics are absolute IRIs) and on the hub URLs
as the API advertises them, so it is built once per (origin, root URL) pair and kept in a
bounded cache (the host comes from clients when ``PUBLIC_URL`` is not set), each with its
strong ETag. The page renders the document with AsyncAPI's React component, whose
standalone bundle is vendored in this package (``static/``, Apache-2.0, its licence
beside it): no CDN, and nothing inline, so it runs under the gateway's content security
policy, which for this page alone also allows ``'unsafe-eval'`` (see :mod:`app.headers`:
the bundled parser compiles schemas into functions); its options travel in an
``application/json`` data block.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, render_template_string, request, send_from_directory
from flask.typing import ResponseReturnValue
from ruamel.yaml import YAML

from app.api.headers import public_root, root_url

JSON_PATH = "/docs.asyncapi.json"
YAML_PATH = "/docs.asyncapi.yaml"
PAGE_PATH = "/docs/asyncapi"
JSON_TYPE = "application/vnd.aai.asyncapi+json"
YAML_TYPE = "application/vnd.aai.asyncapi+yaml"
CACHE_SIZE = 64
"""Distinct (origin, root URL) pairs whose document is kept."""
STATIC_DIR = Path(__file__).parent / "static"
ASSETS: frozenset[str] = frozenset(
    {
        "asyncapi-react.js",
        "asyncapi-react.css",
        "asyncapi-react.LICENSE.txt",
        "asyncapi-react.js.LICENSE.txt",
        "asyncapi-page.js",
        "asyncapi-page.css",
    }
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{{ title }}: live updates</title>
  <link rel="stylesheet" href="{{ url_for('asyncapi.asset', name='asyncapi-react.css') }}">
  <link rel="stylesheet" href="{{ url_for('asyncapi.asset', name='asyncapi-page.css') }}">
  <link rel="icon" href="data:,">
  <link rel="alternate" type="{{ json_type }}" href="{{ url_for('asyncapi.document_json') }}">
</head>
<body>
  <nav class="gateway-docs">
    <a href="{{ url_for('openapi.docs') }}">REST API (OpenAPI)</a>
    <a href="{{ url_for('asyncapi.document_json') }}">docs.asyncapi.json</a>
    <a href="{{ url_for('asyncapi.document_yaml') }}">docs.asyncapi.yaml</a>
  </nav>
  <div id="asyncapi"></div>
  <script id="asyncapi-options" type="application/json">{{ options|tojson }}</script>
  <script src="{{ url_for('asyncapi.asset', name='asyncapi-react.js') }}"></script>
  <script src="{{ url_for('asyncapi.asset', name='asyncapi-page.js') }}"></script>
</body>
</html>
"""


class Serialized:
    """One document encoded as JSON and YAML, with their strong ETags."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.json = json.dumps(document, ensure_ascii=False, indent=2).encode()
        self.json_etag = hashlib.sha256(self.json).hexdigest()[:32]
        self._document = document
        self._yaml: bytes | None = None

    @property
    def yaml(self) -> bytes:
        if self._yaml is None:
            out = BytesIO()
            yaml = YAML(typ="safe", pure=True)
            yaml.default_flow_style = False
            yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
            yaml.dump(self._document, out)
            self._yaml = out.getvalue()
        return self._yaml


def blueprint(
    build: Callable[[str, str], dict[str, Any]],
    origin: Callable[[], str],
    title: str,
    public_url: str | None = None,
) -> Blueprint:
    """The blueprint serving the document ``build(origin, root_url)`` and its page; the
    root URL is the one the API's links start from (:func:`app.api.headers.root_url`)."""
    pages = Blueprint("asyncapi", __name__)
    public = public_root(public_url)

    @lru_cache(maxsize=CACHE_SIZE)
    def serialized(public_origin: str, root: str) -> Serialized:
        return Serialized(build(public_origin, root))

    def current() -> Serialized:
        return serialized(origin(), root_url(request.environ, public))

    def conditional(body: bytes, mimetype: str, etag: str | None = None) -> Response:
        response = Response(body, mimetype=mimetype)
        response.set_etag(etag or hashlib.sha256(body).hexdigest()[:32])
        response.make_conditional(request)  # in place
        return response

    @pages.get(JSON_PATH)
    def document_json() -> ResponseReturnValue:
        accepted = request.accept_mimetypes
        if accepted.quality(YAML_TYPE) > accepted.quality(JSON_TYPE) or (
            accepted.quality("application/yaml") > accepted.quality("application/json")
        ):
            response = conditional(current().yaml, YAML_TYPE)
        else:
            served = current()
            response = conditional(served.json, "application/json", served.json_etag)
        response.vary.add("Accept")
        return response

    @pages.get(YAML_PATH)
    def document_yaml() -> ResponseReturnValue:
        return conditional(current().yaml, "application/yaml")

    @pages.get(PAGE_PATH)
    def page() -> ResponseReturnValue:
        options = {"url": request.script_root + JSON_PATH}
        return render_template_string(_PAGE, title=title, options=options, json_type=JSON_TYPE)

    @pages.get(f"{PAGE_PATH}/assets/<name>")
    def asset(name: str) -> ResponseReturnValue:
        if name not in ASSETS:
            abort(404, f"No AsyncAPI page asset named {name!r}.")
        return send_from_directory(STATIC_DIR, name)

    return pages
