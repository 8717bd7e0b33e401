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
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, abort, request
from flask.typing import ResponseReturnValue

from app.metrics.collectors import Backlog, GatewayMetrics, OutboxCollector, exposition
from app.metrics.settings import MetricsSettings, MetricsSettingsError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "EXTENSION_KEY",
    "OPERATION_KEY",
    "PATH",
    "GatewayMetrics",
    "MetricsSettings",
    "MetricsSettingsError",
    "RequestMetrics",
    "init_app",
]

EXTENSION_KEY = "gateway_metrics"
PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

PRIVATE_PATHS = frozenset({PATH, "/healthz", "/readyz"})
OPERATION_KEY = "gateway.operation"
"""Where a REST view puts ``(resource, operation)`` in the WSGI environment, for counting."""


class RequestMetrics:
    """WSGI middleware around the app: counts and times every request labelled with
    :data:`OPERATION_KEY`, from its arrival to its status line (in ``start_response``,
    without an ``after_request`` hook's per-response work)."""

    def __init__(self, app: WSGIApplication, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            labels: tuple[str, str] | None = environ.get(OPERATION_KEY)
            if labels is not None:
                resource, operation = labels
                elapsed = time.perf_counter() - started
                self.metrics.request_served(resource, operation, int(status[:3]), elapsed)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def init_app(
    app: Flask,
    settings: MetricsSettings,
    metrics: GatewayMetrics,
    backlog: Backlog,
    hubs: Iterable[str] = (),
) -> None:
    """Count the REST operations (the requests the REST views label with
    :data:`OPERATION_KEY`), read the outbox through ``backlog`` at each scrape (with a
    sample for each of ``hubs`` even when it has no row), and serve ``/metrics`` when
    ``settings`` allow it."""
    if not settings.enabled:
        return
    app.extensions[EXTENSION_KEY] = metrics
    metrics.add(OutboxCollector(backlog, hubs))
    app.wsgi_app = RequestMetrics(app.wsgi_app, metrics)  # type: ignore[method-assign]

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
