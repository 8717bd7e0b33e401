"""Who may read ``/metrics``: settings read once from the environment.

- ``METRICS_TOKEN``: ``/metrics`` answers only requests carrying
  ``Authorization: Bearer <token>`` (401 otherwise), in every environment;
- ``METRICS_ADDRESS`` (``HOST:PORT``): gunicorn also listens there (a private interface
  or port, see ``gunicorn.conf.py``) and ``/metrics`` answers requests that arrive on it;
  that listener serves ``/metrics``, ``/healthz`` and ``/readyz`` only. With a token as
  well, ``/metrics`` answers on the public address to requests carrying it;
- ``METRICS=off`` turns metrics off altogether.

Without either, ``/metrics`` is open in development and off (404) in production, where
it would tell anyone how busy the gateway is and which resources are used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.environment import Environment

__all__ = ["MetricsSettings", "MetricsSettingsError"]


class MetricsSettingsError(ValueError):
    """A metrics setting is invalid; the message names it and how to fix it."""


@dataclass(frozen=True)
class MetricsSettings:
    """``enabled``: metrics are collected; ``token``: the bearer token ``/metrics``
    requires on the public address; ``address``: the private listener; ``open``:
    ``/metrics`` answers anyone (development without a token or an address)."""

    enabled: bool = True
    token: str | None = None
    address: str | None = None
    open: bool = True
    multiprocess_dir: str | None = None
    """``PROMETHEUS_MULTIPROC_DIR``: set by ``gunicorn.conf.py``; every worker writes its
    values there and a scrape sums them."""

    @property
    def port(self) -> str | None:
        """The port of :attr:`address` (requests arriving there have it as ``SERVER_PORT``)."""
        return None if self.address is None else self.address.rpartition(":")[2]

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, production: bool = False
    ) -> MetricsSettings:
        """Read ``environ`` (default: the process environment) through the table of
        :mod:`app.environment`; raise :class:`MetricsSettingsError` naming an invalid one."""
        env = Environment(environ, MetricsSettingsError)
        enabled = env.flag("METRICS")
        token = env.text("METRICS_TOKEN")
        if token is not None and len(token) < 16:
            raise MetricsSettingsError(
                "METRICS_TOKEN is shorter than 16 characters; use a long random value, "
                "for example the output of `openssl rand -hex 32`"
            )
        address = env.text("METRICS_ADDRESS")
        if address is not None and not address.rpartition(":")[2].isdigit():
            raise MetricsSettingsError(
                f"METRICS_ADDRESS={address!r} is not HOST:PORT; for example 127.0.0.1:9100"
            )
        if address is not None and int(address.rpartition(":")[2]) == env.integer("PORT"):
            # Requests are told apart by the port they arrived on: a public listener on
            # the same port (another address) would serve /metrics to anyone.
            raise MetricsSettingsError(
                f"METRICS_ADDRESS={address!r} has the public listener's PORT; give the "
                "private listener a port of its own, for example 127.0.0.1:9100"
            )
        return cls(
            enabled=enabled,
            token=token,
            address=address,
            open=token is None and address is None and not production,
            multiprocess_dir=env.text("PROMETHEUS_MULTIPROC_DIR"),
        )
