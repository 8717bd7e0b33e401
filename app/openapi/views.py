"""HTTP endpoints: the OpenAPI document and ``/docs`` (Swagger UI, no CDN).

The OpenAPI 3.1 document is served at API Platform 4's URLs: ``/docs.json``
(``application/json``), ``/docs.jsonopenapi`` (``application/vnd.openapi+json``) and
``/docs.yamlopenapi`` (``application/vnd.openapi+yaml``). ``/docs`` negotiates, as API
Platform does: a browser (``text/html`` first) gets Swagger UI, ``application/ld+json`` or
no preference (``*/*``, no ``Accept``) the Hydra documentation, ``application/json`` or
``application/vnd.openapi+json`` the OpenAPI document in JSON,
``application/vnd.openapi+yaml`` (or ``application/yaml``) in YAML; anything else is 406.

Each document is built and serialized once, when the app is built (the spec is frozen),
and served with a strong ETag. Swagger UI's files come from the installed
``swagger-ui-bundle`` package and are served under ``/docs/assets/``; only the files the
page needs are reachable (an allowlist, so nothing else of the package directory leaks).

The page runs under the gateway's content security policy (``default-src 'self'``, no
inline script or style): its options travel in an ``application/json`` data block, which
the packaged start script (:data:`START_SCRIPT`) reads, and its own style is a packaged
stylesheet. Swagger UI's online validator badge is off (it would load an image from a
third party and tell it where the document is).
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template_string,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from ruamel.yaml import YAML

from app.errors import NotAcceptable
from app.openapi.legacy import downgrade

ASSETS_DIR = Path(swagger_ui_bundle.swagger_ui_path)
ASSETS: frozenset[str] = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)
ASYNCAPI_PAGE = "asyncapi.page"
ASYNCAPI_DOCUMENT = "asyncapi.document_json"
START_SCRIPT = "swagger-ui-start.js"
PAGE_STYLE = "swagger-ui-page.css"
_OWN_ASSETS: dict[str, tuple[str, bytes]] = {
    START_SCRIPT: (
        "text/javascript",
        b"""// Starts Swagger UI with the options the page carries in #swagger-ui-options.
"use strict";
(function () {
  var options = JSON.parse(document.getElementById("swagger-ui-options").textContent);
  window.ui = SwaggerUIBundle(Object.assign(options, {
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  }));
})();
""",
    ),
    PAGE_STYLE: (
        "text/css",
        b"/* The page around Swagger UI: no margin, a scroll bar always shown. */\n"
        b"html { box-sizing: border-box; overflow-y: scroll; }\nbody { margin: 0; }\n"
        b"nav.gateway-docs { display: flex; gap: 1.5em; padding: 0.6em 1em; "
        b"background: #1f2937; font-family: sans-serif; }\n"
        b"nav.gateway-docs a { color: #f9fafb; text-decoration: none; }\n",
    ),
}
"""The page's own start script and style, served beside Swagger UI's files."""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{{ title }}</title>
  <link rel="stylesheet" href="{{ url_for('openapi.asset', name='swagger-ui.css') }}">
  <link rel="stylesheet" href="{{ url_for('openapi.asset', name=page_style) }}">
  <link rel="icon" type="image/png" sizes="32x32"
        href="{{ url_for('openapi.asset', name='favicon-32x32.png') }}">
</head>
<body>
  {% if asyncapi_page %}
  <nav class="gateway-docs">
    <a href="{{ asyncapi_page }}">Live updates (AsyncAPI)</a>
    <a href="{{ asyncapi_document }}">docs.asyncapi.json</a>
  </nav>
  {% endif %}
  <div id="swagger-ui"></div>
  <script id="swagger-ui-options" type="application/json">{{ options|tojson }}</script>
  <script src="{{ url_for('openapi.asset', name='swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('openapi.asset', name='swagger-ui-standalone-preset.js') }}"></script>
  <script src="{{ url_for('openapi.asset', name=start_script) }}"></script>
</body>
</html>
"""


OPENAPI_JSON = "application/vnd.openapi+json"
OPENAPI_YAML = "application/vnd.openapi+yaml"
HYDRA_DOCUMENTATION = "api.documentation"
"""Endpoint of the Hydra documentation (``/docs.jsonld``), which ``/docs`` hands over to."""
_NEGOTIATED = (
    "application/ld+json",
    "text/html",
    OPENAPI_JSON,
    "application/json",
    OPENAPI_YAML,
    "application/yaml",
)
"""What ``/docs`` offers; the first wins a tie (``*/*``): the Hydra documentation."""


class _Serialized:
    """A document encoded once (JSON, or YAML when ``yaml``), with its strong ETag."""

    def __init__(self, document: dict[str, Any], *, yaml: bool = False) -> None:
        if yaml:
            out = io.StringIO()
            dumper = YAML(typ="safe", pure=True)
            dumper.default_flow_style = False
            dumper.representer.sort_base_mapping_type_on_output = False  # the JSON's order
            dumper.dump(document, out)
            self.body = out.getvalue().encode()
        else:
            self.body = json.dumps(document, ensure_ascii=False, indent=2).encode()
        self.etag = hashlib.sha256(self.body).hexdigest()[:32]

    def response(self, mimetype: str) -> Response:
        response = Response(self.body, mimetype=mimetype)
        response.set_etag(self.etag)
        response.make_conditional(request)
        return response


def blueprint(document: dict[str, Any], title: str) -> Blueprint:
    """The blueprint serving ``document`` (OpenAPI 3.1) and the Swagger UI page."""
    current = _Serialized(document)
    legacy = _Serialized(downgrade(document))
    pages = Blueprint("openapi", __name__)

    @cache
    def yaml_form(legacy_version: bool) -> _Serialized:
        """The YAML form, made at its first request (most apps are never asked for it)."""
        return _Serialized(downgrade(document) if legacy_version else document, yaml=True)

    def version(*, yaml: bool = False) -> _Serialized:
        """The form ``?spec_version=`` asks for (default 3.1.0); 400 for another."""
        asked = request.args.get("spec_version", "3.1.0")
        if asked.startswith("3.0"):
            return yaml_form(True) if yaml else legacy
        if asked not in ("3.1.0", "3.1", "3"):
            abort(400, f"spec_version={asked!r} is not served; use 3.1.0 or 3.0.0.")
        return yaml_form(False) if yaml else current

    @pages.get("/docs.json")
    def document_json() -> ResponseReturnValue:
        return version().response("application/json")

    @pages.get("/docs.jsonopenapi")
    def document_jsonopenapi() -> ResponseReturnValue:
        return version().response(OPENAPI_JSON)

    @pages.get("/docs.yamlopenapi")
    def document_yamlopenapi() -> ResponseReturnValue:
        return version(yaml=True).response(OPENAPI_YAML)

    @pages.get("/docs")
    def docs() -> ResponseReturnValue:
        offered: tuple[str, ...] = _NEGOTIATED
        if HYDRA_DOCUMENTATION not in current_app.view_functions:  # an app without the API
            offered = offered[1:]
        accept = request.accept_mimetypes
        best = accept.best_match(offered) if accept else offered[0]
        if best is None:
            raise NotAcceptable(
                f"Cannot answer {request.headers.get('Accept', '')!r} at /docs: send Accept: "
                f"text/html, application/ld+json, {OPENAPI_JSON} or {OPENAPI_YAML}."
            )
        if best == "text/html":
            response: Response = swagger_ui()
        elif best == "application/ld+json":
            view = current_app.view_functions[HYDRA_DOCUMENTATION]
            response = current_app.make_response(current_app.ensure_sync(view)())
        elif best in (OPENAPI_YAML, "application/yaml"):
            response = version(yaml=True).response(OPENAPI_YAML)
        else:
            mimetype = "application/json" if best == "application/json" else OPENAPI_JSON
            response = version().response(mimetype)
        response.vary.add("Accept")
        return response

    def swagger_ui() -> Response:
        options = {
            # Swagger UI 4 renders 3.0 documents only: load the downgraded form.
            "url": url_for("openapi.document_json", spec_version="3.0.0"),
            "deepLinking": True,
            "validatorUrl": None,
        }
        # The AsyncAPI document of the real-time side, when the app serves it.
        has_asyncapi = ASYNCAPI_PAGE in current_app.view_functions
        page = render_template_string(
            _PAGE,
            title=title,
            options=options,
            start_script=START_SCRIPT,
            page_style=PAGE_STYLE,
            asyncapi_page=url_for(ASYNCAPI_PAGE) if has_asyncapi else None,
            asyncapi_document=url_for(ASYNCAPI_DOCUMENT) if has_asyncapi else None,
        )
        return Response(page, mimetype="text/html")

    @pages.get("/docs/assets/<name>")
    def asset(name: str) -> ResponseReturnValue:
        own = _OWN_ASSETS.get(name)
        if own is not None:
            mimetype, body = own
            response = Response(body, mimetype=mimetype)
            response.set_etag(hashlib.sha256(body).hexdigest()[:32])
            return response.make_conditional(request)
        if name not in ASSETS:
            abort(404, f"No documentation asset named {name!r}.")
        return send_from_directory(ASSETS_DIR, name)

    return pages
