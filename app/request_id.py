"""Request ids: one per request, in the ``X-Request-Id`` header, problem+json bodies and logs.

A request's id is the ``X-Request-Id`` it carries when that value is sane (1 to 128
characters among letters, digits and ``-._:@/+=``, as proxies and load balancers generate
them), else a fresh UUID (32 hex digits). The answer carries it back in ``X-Request-Id``,
every problem+json body in ``requestId`` (:mod:`app.errors` reads :func:`current`), and
every log record made while serving the request in ``request_id``.

``LOG_FORMAT=json`` (:func:`configure_json_logs`) makes the root logger write one JSON
object per line: ``time``, ``level``, ``logger``, ``message``, ``request_id`` (when in a
request) and ``exc_info`` (for an exception).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "HEADER",
    "RequestIdFilter",
    "RequestIds",
    "configure_json_logs",
    "current",
    "init_app",
]

HEADER = "X-Request-Id"
_SANE = re.compile(r"[A-Za-z0-9\-._:@/+=]{1,128}")
JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_RENAMES = {"asctime": "time", "levelname": "level", "name": "logger"}


ENVIRON_KEY = "gateway.request_id"
"""Where the request's id is kept in the WSGI environment."""


def current() -> str | None:
    """The id of the request being served (``None`` outside a request)."""
    if not has_request_context():
        return None
    value: str | None = request.environ.get(ENVIRON_KEY)
    return value


class RequestIds:
    """WSGI middleware around the app: assigns the request's id before the app runs and
    adds it to the ``start_response`` headers (a plain tuple, no per-response work by
    Werkzeug, as an ``after_request`` hook would cost)."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        sent = environ.get("HTTP_X_REQUEST_ID", "")
        # 128 random bits in hex, as ``uuid.uuid4().hex`` but without building a UUID.
        value = sent if _SANE.fullmatch(sent) else os.urandom(16).hex()
        environ[ENVIRON_KEY] = value

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            headers.append((HEADER, value))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or ``None``) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current()
        return True


def configure_json_logs(stream: object = None) -> None:
    """Replace the root logger's handlers by one writing JSON lines to ``stream`` (default
    standard error), each with the current request's id; levels are left as they are.
    A root handler that already writes JSON (gunicorn's, see ``gunicorn.conf.py``) is kept
    and given the request id instead. Idempotent."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "json_lines", False):
            # Already JSON (gunicorn.conf.py's root handler): give its lines the request id.
            if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                handler.addFilter(RequestIdFilter())
            return
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.json_lines = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter(JSON_FORMAT, rename_fields=JSON_RENAMES, timestamp=False))
    handler.addFilter(RequestIdFilter())
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)


def init_app(app: Flask, *, json_logs: bool = False) -> None:
    """Give every request of ``app`` an id; ``json_logs``: log JSON lines (``LOG_FORMAT``)."""
    app.wsgi_app = RequestIds(app.wsgi_app)  # type: ignore[method-assign]
    if json_logs:
        configure_json_logs()
