"""Hub transports, chosen by URL scheme.

:func:`create_transport` maps the scheme of ``MERCURE_TRANSPORT_URL`` to the module that
implements it. Every transport module exposes ``from_url(url: str) -> Transport`` and is
imported only when its scheme is used, so optional dependencies load only when needed.
To add a transport, write the module and add its scheme to :data:`TRANSPORT_MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

from app.hub.transport.base import Transport, TransportClosedError, TransportError
from app.hub.transport.fanout import FanOut

__all__ = [
    "DEFAULT_TRANSPORT_URL",
    "TRANSPORT_MODULES",
    "FanOut",
    "Transport",
    "TransportClosedError",
    "TransportError",
    "create_transport",
]

DEFAULT_TRANSPORT_URL = "memory://"

TRANSPORT_MODULES: dict[str, str] = {
    # One process: updates reach the subscribers of the process that published them.
    "memory": "app.hub.transport.memory",
    "sqlite": "app.hub.transport.sqlite",
    # Shared: every worker and instance sees the same updates and history.
    "redis": "app.hub.transport.redis",
    "rediss": "app.hub.transport.redis",
}
"""URL scheme -> module exposing ``from_url(url: str) -> Transport``."""


def create_transport(url: str = DEFAULT_TRANSPORT_URL) -> Transport:
    """Build the transport for ``url`` (e.g. ``memory://?history_size=1000``).

    Raises :class:`ValueError` naming the URL and the supported schemes when the scheme
    is unknown or its module is not available.
    """
    scheme = urlsplit(url).scheme.lower()
    module_name = TRANSPORT_MODULES.get(scheme)
    supported = ", ".join(f"{name}://" for name in sorted(TRANSPORT_MODULES))
    if module_name is None:
        raise ValueError(
            f"transport URL {url!r} has an unsupported scheme {scheme!r}; use one of {supported}"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        raise ValueError(
            f"transport URL {url!r} needs the {scheme}:// transport, which is not available "
            f"in this installation; use one of {supported}"
        ) from None
    factory = cast(Callable[[str], Transport], module.from_url)
    return factory(url)
