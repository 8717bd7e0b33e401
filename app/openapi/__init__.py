"""OpenAPI 3.1 document and Swagger UI built from the same spec as the REST API.

Routes: ``GET /docs.json`` (OpenAPI 3.1; ``?spec_version=3.0.0`` for the 3.0 form),
``GET /docs`` (Swagger UI page) and ``GET /docs/assets/<file>`` (Swagger UI's files from
the installed ``swagger-ui-bundle`` package; no CDN). :func:`build_document` is the pure
spec-to-document function, usable without Flask.
"""

from __future__ import annotations

from flask import Flask

from app.config.spec import ResourcesSpec
from app.openapi.document import build_document
from app.openapi.legacy import downgrade
from app.openapi.views import blueprint

__all__ = ["build_document", "downgrade", "init_app"]


def init_app(app: Flask, spec: ResourcesSpec) -> None:
    """Serve ``/docs.json`` and ``/docs`` for ``spec``; the document is built once, here."""
    app.register_blueprint(blueprint(build_document(spec), spec.api.title))
