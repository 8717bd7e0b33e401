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

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

__all__ = ["HEADER", "RequestIdFilter", "configure_json_logs", "current", "init_app"]

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9\-._:@/+=]{1,128}$")
JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_RENAMES = {"asctime": "time", "levelname": "level", "name": "logger"}


def current() -> str | None:
    """The id of the request being served (``None`` outside a request)."""
    if not has_request_context():
        return None
    value: str | None = g.get("request_id")
    return value


def _assign() -> None:
    sent = request.headers.get(HEADER, "")
    # 128 random bits in hex, as ``uuid.uuid4().hex`` but without building a UUID.
    g.request_id = sent if _SANE.match(sent) else os.urandom(16).hex()


def _answer(response: Response) -> Response:
    value: str | None = g.get("request_id")
    if value is not None:  # this hook is the only one to write the header: add, not set
        response.headers.add(HEADER, value)
    return response


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
    app.before_request(_assign)
    app.after_request(_answer)
    if json_logs:
        configure_json_logs()
