"""OpenAPI 3.1 document and Swagger UI built from the same spec as the REST API.

Routes: ``GET /docs.json`` (OpenAPI 3.1; ``?spec_version=3.0.0`` for the 3.0 form),
``GET /docs`` (Swagger UI page) and ``GET /docs/assets/<file>`` (Swagger UI's files from
the installed ``swagger-ui-bundle`` package; no CDN). :func:`build_document` is the pure
spec-to-document function, usable without Flask.
"""

from __future__ import annotations

from flask import Flask

from app.auth.mercure import PATH as SUBSCRIBER_TOKEN_PATH
from app.config.spec import ResourcesSpec
from app.hub import EXTENSION_KEY as HUB_EXTENSION_KEY
from app.hub.http import HUB_PATH
from app.hub.settings import DEFAULT_COOKIE_NAME
from app.openapi.document import build_document
from app.openapi.legacy import downgrade
from app.openapi.security import SubscriberTokenRoute
from app.openapi.views import blueprint

__all__ = ["SubscriberTokenRoute", "build_document", "downgrade", "init_app"]


def init_app(app: Flask, spec: ResourcesSpec) -> None:
    """Serve ``/docs.json`` and ``/docs`` for ``spec``; the document is built once, here.

    Call it after the other parts have registered their routes: ``GET /auth/mercure`` is
    described when ``app`` serves it."""
    app.register_blueprint(
        blueprint(build_document(spec, subscriber_tokens=_tokens(app)), spec.api.title)
    )


def _tokens(app: Flask) -> SubscriberTokenRoute | None:
    if not any(rule.rule == SUBSCRIBER_TOKEN_PATH for rule in app.url_map.iter_rules()):
        return None
    hub = app.extensions.get(HUB_EXTENSION_KEY)
    cookie_name = getattr(getattr(hub, "settings", None), "cookie_name", DEFAULT_COOKIE_NAME)
    return SubscriberTokenRoute(SUBSCRIBER_TOKEN_PATH, cookie_name, HUB_PATH)
