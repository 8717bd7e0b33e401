"""Process settings read once from the environment into a frozen value.

:func:`Settings.from_env` is called only by the app factory (never at import time); every
other part receives what it needs explicitly. The variables, their types and defaults are
declared in :mod:`app.environment`. The hub's own settings are read by
:mod:`app.hub.settings` with the reference hub's variable names.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from app.environment import Environment, variable

logger = logging.getLogger("app")

EnvironmentName = Literal["development", "production"]
LogFormat = Literal["text", "json"]

DEFAULT_DATABASE_URL: str = variable("DATABASE_URL").default
DEFAULT_MAX_BODY_SIZE: int = variable("MAX_BODY_SIZE").default
"""The largest REST request body read (``MAX_BODY_SIZE``): 1 MiB."""


class SettingsError(ValueError):
    """A process setting in the environment is invalid; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Settings of one gateway process.

    ``environment`` is ``development`` unless ``GATEWAY_ENV=production``; production
    refuses to start without real secrets. ``public_url`` (``PUBLIC_URL``) is the origin
    used for absolute IRIs and the advertised hub URL when requests do not say it.
    """

    environment: EnvironmentName = "development"
    database_url: str = DEFAULT_DATABASE_URL
    resources_path: Path = Path("resources.yaml")
    public_url: str | None = None
    cors_allowed_origins: str | None = None
    """``CORS_ALLOWED_ORIGINS``: comma-separated origins (or ``*``) allowed to call the API."""
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    """``MAX_BODY_SIZE``: the largest REST request body, in bytes (``65536``, ``512KiB``,
    ``4MiB``); a larger one is refused with 413 before it is read, whether it announces
    its ``Content-Length`` or comes in chunks."""
    allow_extra_attributes: bool = True
    """``ALLOW_EXTRA_ATTRIBUTES``: properties a write body carries that the resource does
    not write are ignored (the default, as API Platform does), or, when false, a 422 that
    names them; a resource's ``allow_extra_attributes`` key overrides it."""
    log_format: LogFormat = "text"
    """``LOG_FORMAT``: ``text`` (default) or ``json``, one JSON object per line with the
    request id of the request being served."""

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``environ`` (default: the process environment) through the table of
        :mod:`app.environment`; raise :class:`SettingsError` naming an invalid variable."""
        env = Environment(environ, SettingsError)
        environment: EnvironmentName = (
            "production" if env.choice("GATEWAY_ENV") == "production" else "development"
        )
        public_url = env.text("PUBLIC_URL")
        if public_url and urlsplit(public_url).path.strip("/"):
            logger.warning(
                "PUBLIC_URL=%r has a path: topics and discovery links include it, item "
                "IRIs (@id, Location, relations) do not, and clients resolving them would "
                "miss it; serve the gateway at the root of a host "
                "(PUBLIC_URL=https://api.example)",
                public_url,
            )
        return cls(
            log_format="json" if env.choice("LOG_FORMAT") == "json" else "text",
            environment=environment,
            database_url=env.text("DATABASE_URL") or DEFAULT_DATABASE_URL,
            resources_path=env.path("RESOURCES_FILE") or Path("resources.yaml"),
            public_url=public_url,
            cors_allowed_origins=env.text("CORS_ALLOWED_ORIGINS"),
            max_body_size=env.size("MAX_BODY_SIZE"),
            allow_extra_attributes=env.flag("ALLOW_EXTRA_ATTRIBUTES"),
        )
