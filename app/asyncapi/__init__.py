"""AsyncAPI 3.0 description of the real-time side: what the gateway publishes, and where.

Routes: ``GET /docs.asyncapi.json`` (JSON; YAML when the request prefers
``application/vnd.aai.asyncapi+yaml`` or ``application/yaml``), ``GET /docs.asyncapi.yaml``
and ``GET /docs/asyncapi`` (the page that renders it, offline). :func:`build_document` is
the pure spec-to-document function, usable without Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask

from app.asyncapi.document import TokenRoute, build_document
from app.asyncapi.views import JSON_PATH, JSON_TYPE, PAGE_PATH, YAML_PATH, blueprint
from app.auth.mercure import PATH as SUBSCRIBER_TOKEN_PATH
from app.config.spec import ResourcesSpec

__all__ = ["JSON_PATH", "JSON_TYPE", "PAGE_PATH", "YAML_PATH", "build_document", "init_app"]


def init_app(
    app: Flask,
    spec: ResourcesSpec,
    hub_url_for: Callable[[str], str | None],
    origin: Callable[[], str],
    cookie_name: str,
    public_url: str | None = None,
) -> None:
    """Serve the AsyncAPI document of ``spec`` and its page.

    ``hub_url_for(resource_name)`` is the hub URL a resource advertises (relative ones are
    made absolute against ``public_url``, else the request's root URL, as the ``Link``
    header does);
    ``origin()`` the public origin of topics. Call it after the other parts have
    registered their routes: ``GET /auth/mercure`` is described when ``app`` serves it.
    """
    serves_tokens = any(rule.rule == SUBSCRIBER_TOKEN_PATH for rule in app.url_map.iter_rules())
    tokens = TokenRoute(SUBSCRIBER_TOKEN_PATH) if serves_tokens else None
    build = partial(_build, spec, hub_url_for, cookie_name, tokens)
    app.register_blueprint(blueprint(build, origin, spec.api.title, public_url))


def _build(
    spec: ResourcesSpec,
    hub_url_for: Callable[[str], str | None],
    cookie_name: str,
    tokens: TokenRoute | None,
    public_origin: str,
    root_url: str,
) -> dict[str, Any]:
    hub_urls: dict[str, str] = {}
    for resource in spec.resources:
        url = hub_url_for(resource.name)
        if url is not None:
            hub_urls[resource.name] = (
                url if "://" in url else root_url.rstrip("/") + "/" + url.lstrip("/")
            )
    return build_document(spec, public_origin, hub_urls, cookie_name=cookie_name, tokens=tokens)
