"""Prometheus metrics: ``GET /metrics`` and the REST request hooks.

What is measured (see :mod:`app.metrics.collectors` for the names): the hub's subscribers
and updates under the reference hub's names, dropped slow subscribers and transport
reconnections (told by the hub through :class:`~app.hub.metrics.HubMetrics`, once per
connection or update, never per delivery), REST requests by resource, operation and status
with their duration, and the outbox's depth and oldest pending age (read at scrape time).
Who may read ``/metrics`` is decided by :class:`MetricsSettings`.
"""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, abort, g, request
from flask.typing import ResponseReturnValue

from app.config.spec import ResourcesSpec
from app.metrics.collectors import Backlog, GatewayMetrics, OutboxCollector, exposition
from app.metrics.settings import MetricsSettings, MetricsSettingsError

__all__ = [
    "EXTENSION_KEY",
    "PATH",
    "GatewayMetrics",
    "MetricsSettings",
    "MetricsSettingsError",
    "init_app",
]

EXTENSION_KEY = "gateway_metrics"
PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

PRIVATE_PATHS = frozenset({PATH, "/healthz", "/readyz"})
_COLLECTION = {"GET": "get_collection", "POST": "post"}
_ITEM = {"GET": "get", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}


def init_app(
    app: Flask,
    settings: MetricsSettings,
    metrics: GatewayMetrics,
    spec: ResourcesSpec,
    backlog: Backlog,
) -> None:
    """Count ``spec``'s REST operations, read the outbox through ``backlog`` at each
    scrape, and serve ``/metrics`` when ``settings`` allow it."""
    if not settings.enabled:
        return
    app.extensions[EXTENSION_KEY] = metrics
    metrics.add(OutboxCollector(backlog))
    operations: dict[str, tuple[str, dict[str, str]]] = {}
    for resource in spec.resources:
        operations[f"api.{resource.name}_collection"] = (resource.name, _COLLECTION)
        operations[f"api.{resource.name}_item"] = (resource.name, _ITEM)

    @app.before_request
    def start_clock() -> None:
        if request.endpoint in operations:
            g.metrics_started = time.perf_counter()

    @app.after_request
    def count_request(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is None:
            return response
        resource, methods = operations[request.endpoint or ""]
        operation = methods.get(request.method)
        if operation is not None:
            elapsed = time.perf_counter() - started
            metrics.request_served(resource, operation, response.status_code, elapsed)
        return response

    pages = Blueprint("metrics", __name__)

    def on_private_listener() -> bool:
        return settings.port is not None and request.environ.get("SERVER_PORT") == settings.port

    if settings.address is not None:

        @app.before_request
        def private_listener_serves_probes_only() -> None:
            if on_private_listener() and request.path not in PRIVATE_PATHS:
                abort(404, "This listener (METRICS_ADDRESS) serves /metrics and probes only.")

    @pages.get(PATH)
    def scrape() -> ResponseReturnValue:
        if settings.open or on_private_listener():
            pass
        elif settings.token is not None:
            sent = request.headers.get("Authorization", "")
            expected = f"Bearer {settings.token}"
            if not hmac.compare_digest(sent.encode(), expected.encode()):
                response = Response(
                    "A bearer token (METRICS_TOKEN) is required.\n",
                    status=401,
                    mimetype="text/plain",
                )
                response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
                return response
        else:
            abort(404)
        body = exposition(metrics, settings.multiprocess_dir)
        return Response(body, content_type=CONTENT_TYPE)

    app.register_blueprint(pages)
