"""mercure-gateway: ``resources.yaml`` becomes a real-time REST API with a built-in Mercure hub.

:func:`create_app` (in :mod:`app.factory`) is the only composition root: it reads
settings, loads and validates the resources file, and wires the database models, REST
API, hub and publishing bridge together through their ``init_app`` functions. Nothing
connects or reads the environment at import time.

Importing this package loads nothing else: ``create_app`` and ``STARTUP_ERRORS`` are
loaded on first use, so a subpackage such as :mod:`app.hub` can be used as a library
without the REST API, models, schemas, configuration or publishing packages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.factory import STARTUP_ERRORS, create_app

__all__ = ["STARTUP_ERRORS", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app import factory

        return getattr(factory, name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
