"""HTTP endpoints: ``/docs.json`` (OpenAPI) and ``/docs`` (Swagger UI, no CDN).

The document is built and serialized once, when the app is built (the spec is frozen),
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
import json
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import (
    Blueprint,
    Response,
    abort,
    render_template_string,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue

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
        b"html { box-sizing: border-box; overflow-y: scroll; }\nbody { margin: 0; }\n",
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
  <div id="swagger-ui"></div>
  <script id="swagger-ui-options" type="application/json">{{ options|tojson }}</script>
  <script src="{{ url_for('openapi.asset', name='swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('openapi.asset', name='swagger-ui-standalone-preset.js') }}"></script>
  <script src="{{ url_for('openapi.asset', name=start_script) }}"></script>
</body>
</html>
"""


class _Serialized:
    """A JSON document encoded once, with its strong ETag."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.body = json.dumps(document, ensure_ascii=False, indent=2).encode()
        self.etag = hashlib.sha256(self.body).hexdigest()[:32]


def blueprint(document: dict[str, Any], title: str) -> Blueprint:
    """The blueprint serving ``document`` (OpenAPI 3.1) and the Swagger UI page."""
    current = _Serialized(document)
    legacy = _Serialized(downgrade(document))
    pages = Blueprint("openapi", __name__)

    @pages.get("/docs.json")
    def document_json() -> ResponseReturnValue:
        version = request.args.get("spec_version", "3.1.0")
        if version.startswith("3.0"):
            served = legacy
        elif version in ("3.1.0", "3.1", "3"):
            served = current
        else:
            abort(400, f"spec_version={version!r} is not served; use 3.1.0 or 3.0.0.")
        response = Response(served.body, mimetype="application/json")
        response.set_etag(served.etag)
        return response.make_conditional(request)

    @pages.get("/docs")
    def swagger_ui() -> ResponseReturnValue:
        options = {
            # Swagger UI 4 renders 3.0 documents only: load the downgraded form.
            "url": url_for("openapi.document_json", spec_version="3.0.0"),
            "deepLinking": True,
            "validatorUrl": None,
        }
        return render_template_string(
            _PAGE, title=title, options=options, start_script=START_SCRIPT, page_style=PAGE_STYLE
        )

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
