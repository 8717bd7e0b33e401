"""Process settings read once from the environment into a frozen value.

:func:`Settings.from_env` is called only by the app factory (never at import time); every
other part receives what it needs explicitly. All defaults live here. The hub's own
settings are read by :mod:`app.hub.settings` with the reference hub's variable names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.hub.settings import parse_size

Environment = Literal["development", "production"]

DEFAULT_DATABASE_URL = "sqlite:///gateway.db"
DEFAULT_MAX_BODY_SIZE = 1 << 20
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

    environment: Environment = "development"
    database_url: str = DEFAULT_DATABASE_URL
    resources_path: Path = Path("resources.yaml")
    public_url: str | None = None
    cors_allowed_origins: str | None = None
    """``CORS_ALLOWED_ORIGINS``: comma-separated origins (or ``*``) allowed to call the API."""
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    """``MAX_BODY_SIZE``: the largest REST request body, in bytes (``65536``, ``512KiB``,
    ``4MiB``); a larger one is refused with 413 before it is read, whether it announces
    its ``Content-Length`` or comes in chunks."""

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        raw_environment = env.get("GATEWAY_ENV", "development").strip().lower()
        if raw_environment not in ("development", "production"):
            raise SettingsError(
                f"GATEWAY_ENV={raw_environment!r} is not valid; "
                "set it to 'development' or 'production'"
            )
        environment: Environment = (
            "production" if raw_environment == "production" else "development"
        )
        raw_body_size = env.get("MAX_BODY_SIZE", "").strip()
        try:
            max_body_size = (
                parse_size("MAX_BODY_SIZE", raw_body_size, minimum=1)
                if raw_body_size
                else DEFAULT_MAX_BODY_SIZE
            )
        except ValueError as error:
            raise SettingsError(str(error)) from None
        return cls(
            environment=environment,
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            resources_path=Path(env.get("RESOURCES_FILE", "resources.yaml")),
            public_url=env.get("PUBLIC_URL") or None,
            cors_allowed_origins=env.get("CORS_ALLOWED_ORIGINS") or None,
            max_body_size=max_body_size,
        )
