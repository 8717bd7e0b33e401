"""A graceful stop of one gateway process: drain, then close.

gunicorn calls :func:`drain` when a worker is told to stop (``TERM``, and the old workers
of a ``HUP`` reload): the worker has stopped accepting connections, its open streams end so
that their clients reconnect (with ``Last-Event-ID``) to a worker that stays, and the
publishing relays hand their backlog over. Requests still in flight are served normally:
the hub keeps publishing, so a REST write accepted while draining still publishes.
:func:`close` runs once the worker serves nothing any more: the relays stop (rows not
relayed stay in the outbox for the next process), then the hub closes.
"""

from __future__ import annotations

from flask import Flask

from app.hub import EXTENSION_KEY as HUB_KEY
from app.hub import Hub
from app.publish import EXTENSION_KEY as PUBLISHER_KEY
from app.publish import Publisher

__all__ = ["close", "drain"]


def drain(app: Flask) -> None:
    """Prepare ``app``'s process to stop; idempotent."""
    publisher: Publisher | None = app.extensions.get(PUBLISHER_KEY)
    hub: Hub | None = app.extensions.get(HUB_KEY)
    if publisher is not None:
        publisher.drain()
    if hub is not None:
        hub.drain()


def close(app: Flask) -> None:
    """Release ``app``'s background work and connections; idempotent."""
    publisher: Publisher | None = app.extensions.get(PUBLISHER_KEY)
    hub: Hub | None = app.extensions.get(HUB_KEY)
    if publisher is not None:
        publisher.close()
    if hub is not None:
        hub.close()
