"""Probes for orchestrators: ``GET /healthz`` (liveness) and ``GET /readyz`` (readiness).

``/healthz`` answers 200 as long as the process serves requests; it touches nothing else,
so a database or Redis outage never gets a worker restarted. ``/readyz`` answers 200 when
the database answers ``SELECT 1`` and the hub's transport is usable (Redis answers
``PING``), else 503 ``application/problem+json`` naming what is down in ``detail`` and in
``checks`` (``{"database": "down", "transport": "up"}``). Each check is one round trip,
bounded by :data:`CHECK_TIMEOUT`, so probing every second costs little; the reasons are
logged (drivers' messages may name hosts), the body only names the parts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import gevent
import sqlalchemy as sa
from flask import Blueprint, Flask, Response
from flask.typing import ResponseReturnValue
from flask_sqlalchemy import SQLAlchemy

from app.errors import ServiceUnavailable, problem_response
from app.hub.transport import Transport

__all__ = ["CHECK_TIMEOUT", "NotReady", "init_app"]

CHECK_TIMEOUT = 2.0
"""Longest wait for one dependency, in seconds."""

logger = logging.getLogger(__name__)


class NotReady(ServiceUnavailable):
    """503 from ``/readyz``: ``checks`` maps each dependency to ``up`` or ``down``."""

    def __init__(self, detail: str, checks: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.checks = dict(checks or {})

    @classmethod
    def of(cls, checks: Mapping[str, str]) -> NotReady:
        """The error for ``checks``, its detail naming what is down."""
        down = [name for name, state in checks.items() if state != "up"]
        many = len(down) > 1
        return cls(
            f"Not ready: the {' and the '.join(down)} {'are' if many else 'is'} unreachable; "
            f"requests that need {'them' if many else 'it'} fail until "
            f"{'they are' if many else 'it is'} back.",
            checks,
        )

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["checks"] = self.checks
        return body


def _state(name: str, check: Callable[[], object]) -> str:
    try:
        with gevent.Timeout(CHECK_TIMEOUT):
            check()
    except (Exception, gevent.Timeout) as error:  # gevent.Timeout is a BaseException
        logger.warning("readiness: %s is down (%s: %s)", name, type(error).__name__, error)
        return "down"
    return "up"


def init_app(app: Flask, db: SQLAlchemy, transport: Transport) -> None:
    """Serve the probes for ``db`` and the hub's ``transport``."""
    probes = Blueprint("health", __name__)

    def database() -> None:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    @probes.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return Response('{"status":"pass"}', mimetype="application/json")

    @probes.get("/readyz")
    def readyz() -> ResponseReturnValue:
        checks = {
            "database": _state("database", database),
            "transport": _state("transport", transport.check),
        }
        if "down" in checks.values():
            return problem_response(NotReady.of(checks))
        return Response(
            '{"status":"pass","checks":{"database":"up","transport":"up"}}',
            mimetype="application/json",
        )

    app.register_blueprint(probes)
